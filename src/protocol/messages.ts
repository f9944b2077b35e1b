/**
 * The relay ↔ listener protocol: JSON text frames over one WebSocket. Both ends import
 * this module, so a message one side can build is a message the other side accepts.
 *
 * Listener → relay: subscribe (once, first), ack or acks (several in one frame), released
 * (when replaced), outcomes (see outcomes.ts), ping, pong.
 * Relay → listener: subscribed, event or events (one binary frame: see events-frame.ts),
 * gap, replaced, outcomes-noted, ping, pong, error.
 *
 * Every frame carries `v` (PROTOCOL_VERSION). A peer speaking another version gets an
 * `error` with code `version` instead of being misunderstood.
 */

export const PROTOCOL_VERSION = 1;

/** The WebSocket path listeners connect to on the relay. */
export const TUNNEL_PATH = '/tunnel';

/** Largest frame either end accepts: a 25 MiB body as base64 plus headers and framing. */
export const DEFAULT_MAX_FRAME_BYTES = 40 * 1024 * 1024;

/** Largest answer body the listener sends back for the relay to pass to the sender. */
export const MAX_ACK_BODY_BYTES = 64 * 1024;

/** Heartbeats go both ways this often; a link silent for HEARTBEAT_DEAD_MS is dead and is dropped. */
export const PING_INTERVAL_MS = 2_000;
export const HEARTBEAT_DEAD_MS = 6_000;

/** WebSocket close codes (4000-4999 are for applications). */
export const CLOSE_CODES = {
  /** Token wrong or channel unknown: do not retry. */
  unauthorized: 4401,
  /** A newer listener took over the channel. */
  replaced: 4409,
  /** The peer sent something we cannot read. */
  protocol: 4400,
  /** The channel's token was rotated (POST /channels/<id>/token): this listener's no longer works. Do not retry. */
  tokenRevoked: 4403,
  /** The channel was deleted (DELETE /channels/<id>). Do not retry. */
  channelDeleted: 4410,
  /** The relay is shutting down: retry later. */
  goingAway: 1001,
} as const;

export type ErrorCode = 'unauthorized' | 'version' | 'bad-message' | 'subscribe-timeout' | 'replaced' | 'unavailable';

export interface SubscribeMessage {
  v: number;
  type: 'subscribe';
  channel: string;
  token: string;
  /**
   * Resume cursor: deliver events with seq > after. Omitted when the listener remembers
   * nothing, and the relay then resumes after the channel's acknowledged cursor.
   */
  after?: number;
  /**
   * The identity of the channel log `after` counts in (from an earlier `subscribed`).
   * A relay whose log has another identity ignores `after`, as it does an `after` past
   * its head: those seqs name other events (a recreated or restored log).
   */
  log?: string;
  /**
   * When the relay received event #after, as it told the listener: a relay holding
   * another event under that seq (a restored copy that took new events) ignores `after`.
   */
  at?: string;
}

/**
 * The listener's answer for one event. `final: true` means the target answered and the
 * relay may move the channel's cursor past it. `final: false` reports an attempt that
 * failed because the app could not be reached (listen's own 502/504, not an app's):
 * the relay passes the status to a waiting sender, but keeps the event, and the
 * listener keeps retrying it.
 */
export interface AckMessage {
  v: number;
  type: 'ack';
  seq: number;
  status: number;
  final: boolean;
  /** The app's answer headers worth passing on (content-type and the like). */
  headers?: Array<[string, string]>;
  /** The app's answer body, base64, at most MAX_ACK_BODY_BYTES decoded. */
  body?: string;
  /**
   * The listener forwarded this seq on an earlier connection and has no answer to pass
   * on: the relay moves its cursor but never hands this ack to a waiting sender as the
   * app's answer.
   */
  repeat?: true;
}

/** Several acks in one frame: one socket write for every delivery that finished together. */
export interface AcksMessage {
  v: number;
  type: 'acks';
  acks: Array<Omit<AckMessage, 'v' | 'type'>>;
}

/** An ack as the relay handles it, from either frame: the answer body as bytes (binary) or base64 (JSON). */
export type ReceivedAck = Omit<AckMessage, 'v' | 'type' | 'body'> & { body?: string | Buffer };

/** Acks from one binary frame (acks-frame.ts): bodies byte for byte, never base64. */
export interface BinaryAcksMessage {
  v: number;
  type: 'acks';
  acks: ReceivedAck[];
}

export interface PingMessage {
  v: number;
  type: 'ping' | 'pong';
  /** Sender's clock (ms since epoch), echoed in the pong: round-trip time for free. */
  t: number;
}

export interface SubscribedMessage {
  v: number;
  type: 'subscribed';
  channel: string;
  /** Delivery starts after this seq. */
  after: number;
  /** The newest stored seq at subscription time. */
  head: number;
  /** The channel log's identity, made at random when the log was created (absent from older relays). */
  log?: string;
  /** The relay reads acks as binary frames (acks-frame.ts); absent from older relays, which get JSON `acks`. */
  binaryAcks?: true;
  /** The relay keeps `outcomes` (outcomes.ts); absent from older relays, which are never sent one. */
  outcomes?: true;
}

/**
 * Another listener subscribed to this channel: this one gets no more events, finishes
 * those it is forwarding (their acks still count), then closes. Sent before the relay
 * closes the link with CLOSE_CODES.replaced.
 */
export interface ReplacedMessage {
  v: number;
  type: 'replaced';
  /** ISO 8601: when the newer listener subscribed. */
  at: string;
  /** The newer listener's address as the relay saw it, if known. */
  by?: string;
}

/** One stored request, byte-exact. */
export interface EventMessage {
  v: number;
  type: 'event';
  seq: number;
  method: string;
  /** Path with query, relative to the channel URL (`/c/<id>/hooks?x=1` → `/hooks?x=1`). */
  path: string;
  /** Node's rawHeaders: [name, value, name, value, ...] as received. */
  rawHeaders: string[];
  /** The exact body, base64. */
  body: string;
  /** ISO 8601, when the relay stored it. */
  receivedAt: string;
  /** Sent to a listener before, on an earlier connection: the app may have it already. */
  redelivery?: true;
}

/** One relayed request as the listener handles it: the body as bytes. */
export interface RelayedEvent {
  seq: number;
  method: string;
  path: string;
  rawHeaders: string[];
  body: Buffer;
  receivedAt: string;
  /** Sent to a listener before, on an earlier connection: a possible redelivery. */
  redelivery?: true;
}

/** Events in seq order from one binary frame (events-frame.ts), bodies byte for byte, never base64. */
export interface EventsMessage {
  v: number;
  type: 'events';
  events: RelayedEvent[];
}

/** Events the listener asked for that retention already dropped. */
export interface GapMessage {
  v: number;
  type: 'gap';
  from: number;
  to: number;
  reason: string;
}

export interface ErrorMessage {
  v: number;
  type: 'error';
  code: ErrorCode;
  message: string;
}

/**
 * A replaced listener's last word before it closes: it handed nothing above `begun` to
 * its app, so what the relay sent it above that goes to the newer one unmarked.
 */
export interface ReleasedMessage {
  v: number;
  type: 'released';
  begun: number;
}

/** Where an event the listener holds on FrontEngine's retry schedule stands (outcomes.ts). */
export type OutcomeState = 'retrying' | 'delivered' | 'failed';

/**
 * One event's state on the listener's retry schedule: `retrying` from when it enters the
 * schedule (the relay was acked, so it would call it delivered), then `delivered` (a
 * later attempt got a 2xx) or `failed` (the schedule ran out).
 */
export interface OutcomeNotice {
  seq: number;
  state: OutcomeState;
  /** The app's status on the latest attempt. */
  status?: number;
  /** Attempts made so far (1: the first delivery). */
  attempts?: number;
  /** `retrying`: when the next attempt is due, ISO 8601. */
  nextAttemptAt?: string;
}

/** Listener → relay, only to a relay whose `subscribed` said `outcomes: true`. */
export interface OutcomesMessage {
  v: number;
  type: 'outcomes';
  outcomes: OutcomeNotice[];
}

/** What the relay stored durably, so the listener stops repeating it. */
export type NotedOutcome = Pick<OutcomeNotice, 'seq' | 'state' | 'attempts'>;

/** Relay → listener: these notices are stored (sent only in answer to `outcomes`). */
export interface OutcomesNotedMessage {
  v: number;
  type: 'outcomes-noted';
  outcomes: NotedOutcome[];
}

export type ListenerMessage =
  | SubscribeMessage
  | AckMessage
  | AcksMessage
  | BinaryAcksMessage
  | ReleasedMessage
  | OutcomesMessage
  | PingMessage;
export type RelayMessage =
  | SubscribedMessage
  | EventMessage
  | EventsMessage
  | GapMessage
  | ReplacedMessage
  | OutcomesNotedMessage
  | PingMessage
  | ErrorMessage;

/** A frame that failed validation: why, for a log line and an `error` reply. */
export interface InvalidMessage {
  invalid: string;
  code: ErrorCode;
}

type Draft<M> = M extends unknown ? Omit<M, 'v'> : never;

/** Serialises a message with the protocol version stamped in (events go as binary: events-frame.ts). */
export function encodeMessage(message: Draft<Exclude<ListenerMessage | RelayMessage, EventsMessage | BinaryAcksMessage>>): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ...message });
}
