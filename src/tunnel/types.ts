import type { CaptureRecord } from '../capture/record.js';
import type { RelayedEvent } from '../protocol/index.js';
import type { BackoffPolicy } from './backoff.js';
import type { DeliveryCursor } from './cursor-file.js';
import type { OutcomeLink } from './outcome-notices.js';

// The tunnel's public shapes, shared by its parts (client.ts, connection.ts, deliveries.ts,
// ack-sender.ts) and re-exported by client.ts, where the package's index takes them from.

/** A relayed request as the handler receives it (the shape of the intake's InboundRequest). */
export interface TunnelRequest {
  method: string;
  path: string;
  rawHeaders: string[];
  body: Buffer;
  receivedAt: Date;
  source: { kind: 'relay'; channel: string; seq: number };
  /** How long the app may take (default: the handler's own budget, FrontEngine's 5 s). */
  forwardTimeoutMs?: number;
  /** Adds what the tunnel knows (retry attempt, failed) to the capture record before it is written. */
  annotate?: (record: CaptureRecord, answer: TunnelAnswer) => void;
  /** The relay sent this event on an earlier connection too: the app may have it already. */
  redelivery?: true;
}

/** What the handler answers (the shape of the intake's IntakeAnswer). */
export interface TunnelAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /**
   * The app could not be reached at all (nothing listens): not an answer, so the event
   * is held and tried again soon. Without it, every status (listen's own 504 after a
   * timeout, the app's own 502 or 504) is the app's answer.
   */
  forwardFailed?: boolean;
  /** The handler did not take the event (listen cannot write captures): not acknowledged, tried again later. */
  held?: boolean;
}

/**
 * Stored events (the relay answered their sender 202, so no sender retries them) whose
 * first attempt failed are handed over here, to be retried on FrontEngine's schedule.
 */
export interface StoredEventRetries {
  /** The schedule already owns this seq (taken before a restart): acknowledge, do not forward it again. */
  has(seq: number): boolean;
  /** For the first attempt: `annotate` marks its capture record, `settle` takes a failed event into the schedule (durably). */
  firstAttempt(event: RelayedEvent): { annotate: NonNullable<TunnelRequest['annotate']>; settle(answer: TunnelAnswer): Promise<void> };
  /** What becomes of the events on the schedule, for a relay that keeps it. */
  outcomes?: OutcomeLink;
}

export type TunnelHandler = (request: TunnelRequest) => Promise<TunnelAnswer>;

export type TunnelStatus =
  | { state: 'connecting'; attempt: number }
  | { state: 'connected'; after: number; head: number }
  | { state: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { state: 'gap'; from: number; to: number; reason: string }
  /** The relay's log is not the one the saved cursor counted in: delivery starts again after `from - 1`. */
  | { state: 'cursor-reset'; reason: 'older-log' | 'other-log' | 'diverged'; cursor: number; head: number; from: number }
  | { state: 'app-down'; seq: number; status: number; retryInMs: number }
  /** A live event's answer came after FrontEngine's budget: its sender got 504 from the relay and retries by itself. */
  | { state: 'late'; seq: number; status: number; ms: number }
  | { state: 'closed' };

export interface TunnelOptions {
  /** The relay's base URL (http/https; the WebSocket goes to the same host and port). */
  relayUrl: URL;
  /** Other instances of the same relay (sharing one Redis): tried in turn when a connection fails. */
  fallbackUrls?: URL[];
  channel: string;
  token: string;
  handler: TunnelHandler;
  cursor: DeliveryCursor;
  onStatus?: (status: TunnelStatus) => void;
  /**
   * Statuses meaning "the app is down, keep the event and try again". Default: none by
   * status; an answer marked `forwardFailed` (or a handler that threw) is retried.
   */
  isAppDown?: (status: number) => boolean;
  pingIntervalMs?: number;
  deadAfterMs?: number;
  reconnect?: BackoffPolicy;
  appRetry?: BackoffPolicy;
  /**
   * Deliveries in flight at once. 1 (the default) keeps the app's view strictly in seq
   * order; more lets a busy channel keep up with an app that takes time to answer.
   */
  concurrency?: number;
  /**
   * Events that arrive while this listener is subscribed have a sender waiting at the
   * relay, which answers it 504 after FrontEngine's budget. The listener still waits this
   * long for the app's real answer (default 60 s) and never sends the event again:
   * the sender's own retry is a new delivery.
   */
  liveAnswerMs?: number;
  /** After this long with the app (default FrontEngine's 5 s), a live event stops holding back the next one. */
  answerBudgetMs?: number;
  /** Where stored events that failed their first attempt go; without it their answer is acknowledged as final. */
  retries?: StoredEventRetries;
}

export interface Tunnel {
  /** Resolves on the first subscription; rejects with TunnelAuthError when refused. */
  ready: Promise<void>;
  /** Settles when the tunnel stops: after close(), or with TunnelAuthError or TunnelReplacedError. */
  done: Promise<void>;
  close(): Promise<void>;
}
