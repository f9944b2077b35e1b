import WebSocket from 'ws';
import { CheckFailedError, UserError, errorMessage } from '../errors.js';
import {
  CLOSE_CODES,
  HEARTBEAT_DEAD_MS,
  MAX_ACK_BODY_BYTES,
  PING_INTERVAL_MS,
  PROTOCOL_VERSION,
  TUNNEL_PATH,
  ACKS_PER_FRAME,
  decodeRelayFrame,
  encodeAck,
  encodeAcksFrame,
  encodeMessage,
  isInvalid,
  startHeartbeat,
  type AckMessage,
  type RelayedEvent,
} from '../protocol/index.js';
import {
  APP_RETRY_INITIAL_MS,
  APP_RETRY_MAX_MS,
  RECONNECT_INITIAL_MS,
  RECONNECT_MAX_MS,
  backoffDelayMs,
  pause,
  type BackoffPolicy,
} from './backoff.js';
import type { CaptureRecord } from '../capture/record.js';
import type { DeliveryCursor } from './cursor-file.js';
import { ForwardedTracker } from './forwarded.js';
import type { OutcomeLink } from './outcome-notices.js';
import { skipped } from '../util/debug.js';

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

/** The relay refused the channel id and token: retrying cannot help, so the tunnel stops. */
export class TunnelAuthError extends UserError {
  constructor(relay: string, channel: string) {
    super(`The relay at ${relay} refused channel ${channel}: wrong token or unknown channel. Check --channel/--token, or remove .fe-webhooks/relay.json to create a new channel`);
    this.name = 'TunnelAuthError';
  }
}

/** The relay closed the link for good: the channel's token was rotated, or the channel deleted. */
export class TunnelRevokedError extends UserError {
  constructor(relay: string, channel: string, deleted: boolean) {
    super(
      deleted
        ? `The relay at ${relay} deleted channel ${channel} (its stored events are gone): listen creates a new channel once neither --channel nor .fe-webhooks/relay.json names this one`
        : `The relay at ${relay} revoked this listener's token for channel ${channel} (the token was rotated): restart listen with the new one (\`fe-webhooks channel rotate-token\` saved it in .fe-webhooks/relay.json, or pass --token)`,
    );
    this.name = 'TunnelRevokedError';
  }
}

/** A newer listener subscribed to the channel: this one stopped (exit 1, not retried). */
export class TunnelReplacedError extends CheckFailedError {
  constructor(channel: string, at: Date, by: string | undefined) {
    super(`another listener subscribed to channel ${channel} at ${at.toISOString()}${by ? ` from ${by}` : ''} and took it over; this listener stopped (the newest one gets the events)`);
    this.name = 'TunnelReplacedError';
  }
}

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

/** A frame can carry a 25 MiB body as base64 and more when the relay allows more. */
const MAX_RELAY_FRAME_BYTES = 512 * 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long the listener waits for the app's answer to a live event (its sender has had 504 long before). */
const LIVE_ANSWER_MS = 60_000;
const ANSWER_BUDGET_MS = 5_000;
const HELD_RETRY_MAX_MS = 2_000;
const NO_CONTENT: TunnelAnswer = { status: 200, headers: [], body: Buffer.alloc(0) };
/** Acks going out together stay well under the relay's 1 MiB frame limit. */
const ACKS_FRAME_MAX_CHARS = 256 * 1024;

interface Session {
  send(frame: string | Buffer): void;
  /** The relay reads binary acks (it said so when subscribing). */
  binaryAcks: boolean;
}

type Ack = Omit<AckMessage, 'v' | 'type'>;

/** A single-event text frame from an older relay, as the handler needs it. */
function fromTextEvent(message: { seq: number; method: string; path: string; rawHeaders: string[]; body: string; receivedAt: string }): RelayedEvent {
  return { seq: message.seq, method: message.method, path: message.path, rawHeaders: message.rawHeaders, receivedAt: message.receivedAt, body: Buffer.from(message.body, 'base64') };
}

function tunnelUrl(relayUrl: URL): string {
  const url = new URL(relayUrl.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/$/, '')}${TUNNEL_PATH}`;
  url.search = '';
  url.hash = '';
  return url.href;
}

/**
 * The listener's end of the tunnel: subscribes with the token, hands each event to
 * the handler in order, acks it after the handler resolved, and keeps going forever:
 * heartbeats both ways, reconnects with capped jittered backoff, resumes after the last
 * forwarded seq, and skips repeats it already forwarded.
 */
export function openTunnel(options: TunnelOptions): Tunnel {
  const stop = new AbortController();
  const emit = (status: TunnelStatus): void => options.onStatus?.(status);
  const isAppDown = (answer: TunnelAnswer): boolean => answer.forwardFailed === true || options.isAppDown?.(answer.status) === true;
  const concurrency = options.concurrency ?? 1;
  const tracker = new ForwardedTracker(options.cursor);
  const queue: RelayedEvent[] = [];
  const idleWaiters: Array<() => void> = [];
  /** Deliveries holding a slot (at most `concurrency`)... */
  let active = 0;
  /** ...and all deliveries not finished, including live ones past the budget, which gave their slot up. */
  let running = 0;
  /** Seqs above this arrived while subscribed: their sender waits at the relay (the relay's head when this link subscribed). */
  let liveAfter = Number.POSITIVE_INFINITY;
  let current: Session | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);

  // Acks wait until the promise jobs running now are done (process.nextTick runs after
  // them), then go out in one frame: deliveries finish in bunches (one capture fsync
  // answers many), so do their acks, without waiting for the next turn of the loop.
  // Binary (acks-frame.ts) when the relay reads them, else JSON texts.
  let acks: string[] = [];
  let binaryAcks: Buffer[] = [];
  let acksCount = 0;
  let acksChars = 0;
  let acksScheduled = false;
  const flushAcks = (): void => {
    acksScheduled = false;
    if (acksCount === 0) return;
    // The cursor reaches the file before any ack it covers leaves.
    tracker.commit();
    if (current?.binaryAcks) current.send(encodeAcksFrame(acksCount, binaryAcks));
    else current?.send(`{"v":${PROTOCOL_VERSION},"type":"acks","acks":[${acks.join(',')}]}`);
    acks = [];
    binaryAcks = [];
    acksCount = 0;
    acksChars = 0;
  };
  const ack = (seq: number, answer: TunnelAnswer, final: boolean, repeat = false): void => {
    if (!current) return;
    const body = answer.body.subarray(0, MAX_ACK_BODY_BYTES);
    const headers = answer.headers.filter(([name]) => /^content-type$/i.test(name));
    let size: number;
    if (current.binaryAcks) {
      const bytes = encodeAck(seq, answer.status, final, repeat, headers, body);
      size = bytes.length;
      if (acksChars + size > ACKS_FRAME_MAX_CHARS || acksCount === ACKS_PER_FRAME) flushAcks();
      binaryAcks.push(bytes);
    } else {
      const one: Ack = {
        seq,
        status: answer.status,
        final,
        headers,
        ...(body.length > 0 ? { body: body.toString('base64') } : {}),
        ...(repeat ? { repeat: true } : {}),
      };
      const text = JSON.stringify(one);
      size = text.length + 1;
      if (acksChars + size > ACKS_FRAME_MAX_CHARS) flushAcks();
      acks.push(text);
    }
    acksCount++;
    acksChars += size;
    if (!acksScheduled) {
      acksScheduled = true;
      process.nextTick(flushAcks);
    }
  };

  const callHandler = async (request: TunnelRequest): Promise<TunnelAnswer> => {
    try {
      return await options.handler(request);
    } catch (error) {
      return { status: 502, headers: [['content-type', 'text/plain']], body: Buffer.from(errorMessage(error)), forwardFailed: true };
    }
  };

  /**
   * The relay marks every event it sent on an earlier connection (to any listener). This
   * listener's cursor knows, across restarts, the highest seq it ever handed to its app:
   * an event above it cannot be a repeat for this app (the mark is dropped), one at or
   * below it that was not acknowledged may be (marked even if the relay lost track). A
   * listener that knew nothing when it subscribed (a new cursor, maybe taking over from
   * another, or a log that changed) takes the relay's word.
   */
  let begunKnown = false;
  const asSeenByThisApp = (event: RelayedEvent): RelayedEvent => {
    const begun = options.cursor.begun;
    if (!begunKnown || begun === undefined) return event;
    const mayHaveIt = event.seq <= begun;
    if (mayHaveIt === (event.redelivery === true)) return event;
    if (mayHaveIt) return { ...event, redelivery: true };
    const { redelivery: _dropped, ...fresh } = event;
    return fresh;
  };

  /** Set when a newer listener took the channel over: retries stop, nothing new starts. */
  const handOver = new AbortController();
  let replacedBy: { at: Date; by: string | undefined } | undefined;
  const stopping = AbortSignal.any([stop.signal, handOver.signal]);

  const appRetry = options.appRetry ?? { initialMs: APP_RETRY_INITIAL_MS, maxMs: APP_RETRY_MAX_MS };
  // Asking a listener that cannot take events (captures unwritable) costs nothing: look
  // again every 2 s at most, so events flow soon after there is room.
  const heldRetry = { initialMs: appRetry.initialMs, maxMs: Math.min(appRetry.maxMs, HELD_RETRY_MAX_MS) };

  /**
   * Delivers one event: once, as FrontEngine would, except that an app that could not be
   * reached (or a listener that cannot take it now) is tried again with backoff, those
   * tries not being answers. Undefined when the tunnel was closed meanwhile.
   */
  const deliver = async (event: RelayedEvent, live: boolean, onReturn: () => void): Promise<TunnelAnswer | undefined> => {
    // Stored events (sender answered 202) that fail are retried on the schedule; live ones by their sender.
    const first = live ? undefined : options.retries?.firstAttempt(event);
    const request: TunnelRequest = {
      method: event.method,
      path: event.path,
      rawHeaders: event.rawHeaders,
      body: event.body,
      receivedAt: new Date(event.receivedAt),
      source: { kind: 'relay', channel: options.channel, seq: event.seq },
      ...(event.redelivery ? { redelivery: true } : {}),
      ...(live ? { forwardTimeoutMs: options.liveAnswerMs ?? LIVE_ANSWER_MS } : {}),
      ...(first ? { annotate: first.annotate } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      const answer = await callHandler(request);
      onReturn();
      if (answer.held === true) {
        // Not taken (captures cannot be written): not acknowledged, so it waits at the relay.
        await pause(backoffDelayMs(attempt, heldRetry), stopping);
        if (stopping.aborted) return undefined;
        continue;
      }
      if (!isAppDown(answer)) {
        await first?.settle(answer);
        return answer;
      }
      ack(event.seq, answer, false);
      const retryInMs = backoffDelayMs(attempt, appRetry);
      emit({ state: 'app-down', seq: event.seq, status: answer.status, retryInMs });
      await pause(retryInMs, stopping);
      if (stopping.aborted) return undefined;
    }
  };

  /** `event` as this app sees it (asSeenByThisApp), its begun mark already saved (see dispatch). */
  const deliverAndAck = async (event: RelayedEvent): Promise<void> => {
    const generation = tracker.generation;
    tracker.begin(event.seq);
    active++;
    running++;
    const live = event.seq > liveAfter;
    const startedMs = performance.now();
    const budgetMs = options.answerBudgetMs ?? ANSWER_BUDGET_MS;
    // A slow answer to a live event: its sender has 504 by now; the next event need not wait for it.
    let holdsSlot = true;
    const releaseSlot = (): void => {
      if (!holdsSlot) return;
      holdsSlot = false;
      active--;
      dispatchSoon();
    };
    const slow = live ? setTimeout(releaseSlot, budgetMs) : undefined;
    // Only an answer from the first call can be "late": after a try that found the app
    // down, the waiting sender was already told that (502).
    let calls = 0;
    let firstCallMs = 0;
    const returned = (): void => {
      if (++calls === 1) firstCallMs = performance.now() - startedMs;
      clearTimeout(slow);
    };
    let answer: TunnelAnswer | undefined;
    try {
      answer = await deliver(event, live, returned);
    } finally {
      clearTimeout(slow);
      tracker.finish(event.seq, answer !== undefined, generation, event.receivedAt);
      running--;
    }
    if (answer && live && calls === 1 && firstCallMs > budgetMs) emit({ state: 'late', seq: event.seq, status: answer.status, ms: firstCallMs });
    // On whichever link is current: after a reconnect the relay has sent this seq again.
    // Not when the relay's log changed meanwhile: this seq now names another event.
    if (answer && generation === tracker.generation) ack(event.seq, answer, true);
    if (holdsSlot) releaseSlot();
    else dispatchSoon();
  };

  // Deliveries finish in bunches (one capture fsync answers many): the slots they free are
  // filled together once the promise jobs running now are done, so the events started
  // share one begun write (see dispatch) instead of one each.
  let dispatchScheduled = false;
  const dispatchScheduledNow = (): void => {
    dispatchScheduled = false;
    dispatch();
  };
  const dispatchSoon = (): void => {
    if (dispatchScheduled) return;
    dispatchScheduled = true;
    process.nextTick(dispatchScheduledNow);
  };

  /** Starts deliveries in seq order, up to `concurrency` at once. */
  const dispatch = (): void => {
    const starting: RelayedEvent[] = [];
    while (queue.length > 0 && active + starting.length < concurrency && !stopping.aborted) {
      const event = queue.shift() as RelayedEvent;
      // Already reached the app on an earlier connection, or its retries are scheduled:
      // acknowledged, not repeated, and marked so the relay never passes this empty
      // answer to a sender as the app's.
      if (tracker.forwarded(event.seq) || options.retries?.has(event.seq) === true) ack(event.seq, NO_CONTENT, true, true);
      // Being delivered since before a reconnect: its ack will follow on the new link.
      else if (!tracker.inProgress(event.seq)) starting.push(asSeenByThisApp(event));
    }
    // The begun mark of all the events starting now, in one write (not one per event),
    // after their redelivery marks were decided and before the first reaches the app.
    const last = starting.at(-1);
    if (last) options.cursor.begin(last.seq);
    for (const event of starting) void deliverAndAck(event);
    if (running === 0) for (const wake of idleWaiters.splice(0)) wake();
  };

  const whenIdle = (): Promise<void> => (running === 0 ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve)));

  const relayUrls = [options.relayUrl, ...(options.fallbackUrls ?? [])];
  let urlIndex = 0;

  /** One connection, from dial to close. Resolves with why it ended; throws TunnelAuthError. */
  const connectOnce = (onSubscribed: () => void): Promise<string> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(tunnelUrl(relayUrls[urlIndex % relayUrls.length] as URL), { maxPayload: MAX_RELAY_FRAME_BYTES, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
      const session: Session = { send: (frame) => ws.readyState === ws.OPEN && ws.send(frame), binaryAcks: false };
      let refused = false;
      let endReason = 'connection closed';
      const heartbeat = startHeartbeat({
        send: session.send,
        onDead: () => {
          endReason = 'no heartbeat from the relay';
          ws.terminate();
        },
        intervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
        deadAfterMs: options.deadAfterMs ?? HEARTBEAT_DEAD_MS,
      });
      const onAbort = (): void => ws.close(1000, 'listener stopped');
      stop.signal.addEventListener('abort', onAbort, { once: true });
      let askedAfter: number | undefined;
      let askedLog: string | undefined;
      ws.on('open', () => {
        heartbeat.heard();
        tracker.commit();
        askedAfter = options.cursor.lastForwarded;
        askedLog = askedAfter !== undefined ? options.cursor.log : undefined;
        const at = askedAfter !== undefined ? options.cursor.lastForwardedAt : undefined;
        session.send(
          encodeMessage({
            type: 'subscribe',
            channel: options.channel,
            token: options.token,
            ...(askedAfter !== undefined ? { after: askedAfter } : {}),
            ...(askedLog !== undefined ? { log: askedLog } : {}),
            ...(at !== undefined ? { at } : {}),
          }),
        );
      });
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        heartbeat.heard();
        const message = decodeRelayFrame(data, isBinary);
        if (isInvalid(message)) {
          endReason = `unreadable message from the relay: ${message.invalid}`;
          ws.close(CLOSE_CODES.protocol, 'bad message');
          return;
        }
        if (heartbeat.answer(message)) return;
        switch (message.type) {
          case 'subscribed': {
            session.binaryAcks = message.binaryAcks === true;
            current = session;
            liveAfter = message.head;
            // The relay starts below the cursor only when its log is not the one the cursor
            // counted in: another identity, or an older copy (head below the cursor).
            const otherLog = message.log !== undefined && askedLog !== undefined && message.log !== askedLog;
            if (askedAfter !== undefined && (otherLog || message.after < askedAfter)) {
              tracker.reset(message.after, message.log);
              const reason = otherLog ? 'other-log' : message.head < askedAfter ? 'older-log' : 'diverged';
              emit({ state: 'cursor-reset', reason, cursor: askedAfter, head: message.head, from: message.after + 1 });
            } else tracker.startAt(message.after);
            if (message.log !== undefined) tracker.adopt(message.log);
            begunKnown = options.cursor.begun !== undefined;
            options.retries?.outcomes?.attach(message.outcomes === true ? session.send : undefined);
            onSubscribed();
            emit({ state: 'connected', after: message.after, head: message.head });
            return;
          }
          case 'replaced':
            // Finish what is being forwarded (its acks still count), start nothing new, then go.
            replacedBy = { at: new Date(message.at), by: message.by };
            queue.length = 0;
            handOver.abort();
            void whenIdle().then(() => {
              flushAcks();
              // What it never handed to the app then reaches the newer listener unmarked.
              const begun = options.cursor.begun;
              if (begun !== undefined) session.send(encodeMessage({ type: 'released', begun }));
              ws.close(1000, 'replaced by a newer listener');
            });
            return;
          case 'events':
            for (const event of message.events) queue.push(event);
            dispatch();
            return;
          case 'event':
            queue.push(fromTextEvent(message));
            dispatch();
            return;
          case 'outcomes-noted':
            options.retries?.outcomes?.noted(message.outcomes);
            return;
          case 'gap':
            tracker.skip(message.from, message.to);
            emit({ state: 'gap', from: message.from, to: message.to, reason: message.reason });
            return;
          case 'error':
            if (message.code === 'unauthorized') refused = true;
            endReason = message.message;
            return;
        }
      });
      ws.on('error', (error) => {
        endReason = errorMessage(error);
      });
      ws.on('close', (code) => {
        if (current === session) {
          // Acks not yet sent are lost with the link: the relay sends those events again.
          tracker.commit();
          acks = [];
          binaryAcks = [];
          acksCount = 0;
          acksChars = 0;
          current = undefined;
          options.retries?.outcomes?.detach();
        }
        // Not yet started: the relay sends them again after the resume cursor.
        queue.length = 0;
        heartbeat.stop();
        stop.signal.removeEventListener('abort', onAbort);
        if (refused || code === CLOSE_CODES.unauthorized) reject(new TunnelAuthError(options.relayUrl.origin, options.channel));
        else if (code === CLOSE_CODES.tokenRevoked || code === CLOSE_CODES.channelDeleted) reject(new TunnelRevokedError(options.relayUrl.origin, options.channel, code === CLOSE_CODES.channelDeleted));
        else if (replacedBy || code === CLOSE_CODES.replaced) {
          // The newest subscription wins: reconnecting would only take the channel back.
          replacedBy ??= { at: new Date(), by: undefined };
          handOver.abort();
          reject(new TunnelReplacedError(options.channel, replacedBy.at, replacedBy.by));
        } else resolve(endReason);
      });
    });

  const run = async (): Promise<void> => {
    for (let attempt = 0; !stop.signal.aborted; ) {
      emit({ state: 'connecting', attempt });
      let subscribed = false;
      const reason = await connectOnce(() => {
        subscribed = true;
        resolveReady();
      });
      if (stop.signal.aborted) break;
      // Failed to connect or subscribe here: the next instance of the relay, if there is one.
      if (!subscribed) urlIndex++;
      attempt = subscribed ? 0 : attempt + 1;
      // An instance not yet tried in this round: at once; a whole round failed: back off.
      const rotating = !subscribed && urlIndex % relayUrls.length !== 0;
      const delayMs = rotating ? 0 : backoffDelayMs(Math.floor(attempt / relayUrls.length), options.reconnect ?? { initialMs: RECONNECT_INITIAL_MS, maxMs: RECONNECT_MAX_MS });
      emit({ state: 'reconnecting', attempt: attempt + 1, delayMs, reason });
      await pause(delayMs, stop.signal);
    }
  };

  // The event being forwarded when the tunnel stops still gets its cursor saved.
  const done = run().then(
    async () => {
      await whenIdle();
      emit({ state: 'closed' });
      tracker.commit();
      options.cursor.close();
    },
    async (error: unknown) => {
      rejectReady(error as Error);
      await whenIdle();
      tracker.commit();
      options.cursor.close();
      throw error;
    },
  );
  done.catch(() => undefined);

  return {
    ready,
    done,
    async close() {
      stop.abort();
      rejectReady(new Error('tunnel closed'));
      await done.catch(skipped("the tunnel's last error, on close"));
    },
  };
}
