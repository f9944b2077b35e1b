import WebSocket from 'ws';
import { errorMessage } from '../errors.js';
import {
  CLOSE_CODES,
  HEARTBEAT_DEAD_MS,
  PING_INTERVAL_MS,
  TUNNEL_PATH,
  decodeRelayFrame,
  encodeMessage,
  isInvalid,
  startHeartbeat,
  type Heartbeat,
  type RelayMessage,
  type RelayedEvent,
} from '../protocol/index.js';
import type { AckLink, AckSender } from './ack-sender.js';
import type { Deliveries } from './deliveries.js';
import type { ForwardedTracker } from './forwarded.js';
import type { TunnelOptions, TunnelStatus } from './types.js';

/** A frame can carry a 25 MiB body as base64 and more when the relay allows more. */
const MAX_RELAY_FRAME_BYTES = 512 * 1024 * 1024;
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** What outlives one connection: the tunnel's parts a connection reads and feeds (client.ts's TunnelClient). */
export interface TunnelParts {
  readonly options: TunnelOptions;
  readonly tracker: ForwardedTracker;
  readonly acks: AckSender;
  readonly deliveries: Deliveries;
  /** Aborted by close(). */
  readonly stop: AbortSignal;
  readonly emit: (status: TunnelStatus) => void;
  /** A newer listener took the channel over (when and from where, if the relay said): nothing new starts. */
  handOver(by?: { at: Date; by: string | undefined }): void;
  readonly handedOver: boolean;
}

/** Why a connection ended: `closed` is worth a reconnect, the others stop the tunnel. */
export type ConnectionEnd =
  | { kind: 'closed'; reason: string }
  /** The relay refused the channel id and token. */
  | { kind: 'refused' }
  /** The channel's token was rotated, or the channel deleted. */
  | { kind: 'revoked'; deleted: boolean }
  /** A newer listener subscribed to the channel. */
  | { kind: 'replaced' };

/** A single-event text frame from an older relay, as the handler needs it. */
function fromTextEvent(message: Extract<RelayMessage, { type: 'event' }>): RelayedEvent {
  return {
    seq: message.seq,
    method: message.method,
    path: message.path,
    rawHeaders: message.rawHeaders,
    receivedAt: message.receivedAt,
    body: Buffer.from(message.body, 'base64'),
  };
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
 * One WebSocket to the relay, from dial to close: subscribes after the saved cursor, keeps
 * the heartbeat, and is the receiving half, which decodes each frame and hands events to
 * the Deliveries. `ended` settles with why it closed; reconnecting is the client's job.
 */
export class RelayConnection {
  readonly ended: Promise<ConnectionEnd>;
  private readonly ws: WebSocket;
  private readonly link: AckLink;
  private readonly heartbeat: Heartbeat;
  private refused = false;
  private endReason = 'connection closed';
  /** What this link asked the relay to resume after, and in which log. */
  private askedAfter: number | undefined;
  private askedLog: string | undefined;
  private readonly onAbort = (): void => this.ws.close(1000, 'listener stopped');

  constructor(
    private readonly parts: TunnelParts,
    relayUrl: URL,
    /** Called once the relay accepted the subscription. */
    private readonly onSubscribed: () => void,
  ) {
    const { options } = parts;
    const ws = new WebSocket(tunnelUrl(relayUrl), { maxPayload: MAX_RELAY_FRAME_BYTES, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    this.ws = ws;
    this.link = { send: (frame) => ws.readyState === ws.OPEN && ws.send(frame), binaryAcks: false };
    this.heartbeat = startHeartbeat({
      send: this.link.send,
      onDead: () => {
        this.endReason = 'no heartbeat from the relay';
        ws.terminate();
      },
      intervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
      deadAfterMs: options.deadAfterMs ?? HEARTBEAT_DEAD_MS,
    });
    parts.stop.addEventListener('abort', this.onAbort, { once: true });
    this.ended = new Promise((resolve) => {
      ws.on('open', () => this.subscribe());
      ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
      ws.on('error', (error) => {
        this.endReason = errorMessage(error);
      });
      ws.on('close', (code) => resolve(this.closed(code)));
    });
  }

  private subscribe(): void {
    const { options, tracker } = this.parts;
    this.heartbeat.heard();
    tracker.commit();
    const askedAfter = options.cursor.lastForwarded;
    const askedLog = askedAfter !== undefined ? options.cursor.log : undefined;
    const at = askedAfter !== undefined ? options.cursor.lastForwardedAt : undefined;
    this.askedAfter = askedAfter;
    this.askedLog = askedLog;
    this.link.send(
      encodeMessage({
        type: 'subscribe',
        channel: options.channel,
        token: options.token,
        ...(askedAfter !== undefined ? { after: askedAfter } : {}),
        ...(askedLog !== undefined ? { log: askedLog } : {}),
        ...(at !== undefined ? { at } : {}),
      }),
    );
  }

  /** One frame from the relay (the per-event path: events go straight to the Deliveries). */
  private receive(data: Buffer, isBinary: boolean): void {
    this.heartbeat.heard();
    const message = decodeRelayFrame(data, isBinary);
    if (isInvalid(message)) {
      this.endReason = `unreadable message from the relay: ${message.invalid}`;
      this.ws.close(CLOSE_CODES.protocol, 'bad message');
      return;
    }
    if (this.heartbeat.answer(message)) return;
    const { deliveries } = this.parts;
    switch (message.type) {
      case 'subscribed':
        this.subscribed(message);
        return;
      case 'replaced':
        this.replaced(message);
        return;
      case 'events':
        deliveries.receive(message.events);
        return;
      case 'event':
        deliveries.receiveOne(fromTextEvent(message));
        return;
      case 'outcomes-noted':
        this.parts.options.retries?.outcomes?.noted(message.outcomes);
        return;
      case 'gap':
        this.parts.tracker.skip(message.from, message.to);
        this.parts.emit({ state: 'gap', from: message.from, to: message.to, reason: message.reason });
        return;
      case 'error':
        if (message.code === 'unauthorized') this.refused = true;
        this.endReason = message.message;
        return;
    }
  }

  private subscribed(message: Extract<RelayMessage, { type: 'subscribed' }>): void {
    const { tracker, acks, deliveries, emit } = this.parts;
    const { askedAfter, askedLog } = this;
    this.link.binaryAcks = message.binaryAcks === true;
    acks.link = this.link;
    // The relay starts below the cursor only when its log is not the one the cursor
    // counted in: another identity, or an older copy (head below the cursor).
    const otherLog = message.log !== undefined && askedLog !== undefined && message.log !== askedLog;
    if (askedAfter !== undefined && (otherLog || message.after < askedAfter)) {
      tracker.reset(message.after, message.log);
      const reason = otherLog ? 'other-log' : message.head < askedAfter ? 'older-log' : 'diverged';
      emit({ state: 'cursor-reset', reason, cursor: askedAfter, head: message.head, from: message.after + 1 });
    } else tracker.startAt(message.after);
    if (message.log !== undefined) tracker.adopt(message.log);
    this.parts.options.retries?.outcomes?.attach(message.outcomes === true ? this.link.send : undefined);
    deliveries.subscribed(message.head);
    this.onSubscribed();
    emit({ state: 'connected', after: message.after, head: message.head });
  }

  /** Finish what is being forwarded (its acks still count), start nothing new, then go. */
  private replaced(message: Extract<RelayMessage, { type: 'replaced' }>): void {
    const { acks, deliveries, options } = this.parts;
    this.parts.handOver({ at: new Date(message.at), by: message.by });
    deliveries.dropQueued();
    void deliveries.whenIdle().then(() => {
      acks.flush();
      // What it never handed to the app then reaches the newer listener unmarked.
      const begun = options.cursor.begun;
      if (begun !== undefined) this.link.send(encodeMessage({ type: 'released', begun }));
      this.ws.close(1000, 'replaced by a newer listener');
    });
  }

  private closed(code: number): ConnectionEnd {
    const { tracker, acks, deliveries } = this.parts;
    if (acks.link === this.link) {
      // Acks not yet sent are lost with the link: the relay sends those events again.
      tracker.commit();
      acks.linkClosed();
      this.parts.options.retries?.outcomes?.detach();
    }
    // Not yet started: the relay sends them again after the resume cursor.
    deliveries.dropQueued();
    this.heartbeat.stop();
    this.parts.stop.removeEventListener('abort', this.onAbort);
    if (this.refused || code === CLOSE_CODES.unauthorized) return { kind: 'refused' };
    if (code === CLOSE_CODES.tokenRevoked || code === CLOSE_CODES.channelDeleted) {
      return { kind: 'revoked', deleted: code === CLOSE_CODES.channelDeleted };
    }
    if (this.parts.handedOver || code === CLOSE_CODES.replaced) {
      // The newest subscription wins: reconnecting would only take the channel back.
      this.parts.handOver();
      return { kind: 'replaced' };
    }
    return { kind: 'closed', reason: this.endReason };
  }
}
