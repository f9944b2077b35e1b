import { CheckFailedError, UserError } from '../errors.js';
import { AckSender } from './ack-sender.js';
import { RECONNECT_INITIAL_MS, RECONNECT_MAX_MS, backoffDelayMs, pause } from './backoff.js';
import { RelayConnection, type ConnectionEnd, type TunnelParts } from './connection.js';
import { Deliveries } from './deliveries.js';
import { ForwardedTracker } from './forwarded.js';
import { skipped } from '../util/debug.js';
import type { Tunnel, TunnelOptions, TunnelStatus } from './types.js';

// The tunnel's parts, as ws splits a websocket into the socket, its receiver and its sender:
// TunnelClient (here) owns the reconnect loop and the tunnel's lifetime, RelayConnection
// (connection.ts) one WebSocket and the frames it receives, Deliveries (deliveries.ts) the
// events on their way to the app, AckSender (ack-sender.ts) the acks going back.
export type { StoredEventRetries, Tunnel, TunnelAnswer, TunnelHandler, TunnelOptions, TunnelRequest, TunnelStatus } from './types.js';

/** The relay refused the channel id and token: retrying cannot help, so the tunnel stops. */
export class TunnelAuthError extends UserError {
  constructor(relay: string, channel: string) {
    super(
      `The relay at ${relay} refused channel ${channel}: wrong token or unknown channel. ` +
        'Check --channel/--token, or remove .fe-webhooks/relay.json to create a new channel',
    );
    this.name = 'TunnelAuthError';
  }
}

/** The relay closed the link for good: the channel's token was rotated, or the channel deleted. */
export class TunnelRevokedError extends UserError {
  constructor(relay: string, channel: string, deleted: boolean) {
    super(
      deleted
        ? `The relay at ${relay} deleted channel ${channel} (its stored events are gone): ` +
            'listen creates a new channel once neither --channel nor .fe-webhooks/relay.json names this one'
        : `The relay at ${relay} revoked this listener's token for channel ${channel} (the token was rotated): ` +
            'restart listen with the new one (`fe-webhooks channel rotate-token` saved it in .fe-webhooks/relay.json, or pass --token)',
    );
    this.name = 'TunnelRevokedError';
  }
}

/** A newer listener subscribed to the channel: this one stopped (exit 1, not retried). */
export class TunnelReplacedError extends CheckFailedError {
  constructor(channel: string, at: Date, by: string | undefined) {
    super(
      `another listener subscribed to channel ${channel} at ${at.toISOString()}${by ? ` from ${by}` : ''} ` +
        'and took it over; this listener stopped (the newest one gets the events)',
    );
    this.name = 'TunnelReplacedError';
  }
}

/**
 * The listener's end of the tunnel: subscribes with the token, hands each event to
 * the handler in order, acks it after the handler resolved, and keeps going forever:
 * heartbeats both ways, reconnects with capped jittered backoff, resumes after the last
 * forwarded seq, and skips repeats it already forwarded.
 */
export function openTunnel(options: TunnelOptions): Tunnel {
  const client = new TunnelClient(options);
  return { ready: client.ready, done: client.done, close: () => client.close() };
}

/** The tunnel from open to stop: the reconnect loop over the relay's instances, and what outlives each connection. */
class TunnelClient implements TunnelParts {
  readonly tracker: ForwardedTracker;
  readonly acks: AckSender;
  readonly deliveries: Deliveries;
  readonly stop: AbortSignal;
  readonly emit: (status: TunnelStatus) => void;
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  private readonly stopper = new AbortController();
  /** Aborted when a newer listener took the channel over: retries stop, nothing new starts. */
  private readonly handOverController = new AbortController();
  private replacedBy: { at: Date; by: string | undefined } | undefined;
  private readonly relayUrls: URL[];
  /** The relay instance the next connection dials (modulo relayUrls.length). */
  private urlIndex = 0;
  private resolveReady!: () => void;
  private rejectReady!: (error: Error) => void;

  constructor(readonly options: TunnelOptions) {
    this.stop = this.stopper.signal;
    this.emit = (status) => options.onStatus?.(status);
    this.tracker = new ForwardedTracker(options.cursor);
    this.acks = new AckSender(this.tracker);
    const stopping = AbortSignal.any([this.stop, this.handOverController.signal]);
    this.deliveries = new Deliveries(options, this.tracker, this.acks, stopping, this.emit);
    this.relayUrls = [options.relayUrl, ...(options.fallbackUrls ?? [])];
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    // The event being forwarded when the tunnel stops still gets its cursor saved.
    this.done = this.run().then(
      async () => {
        await this.deliveries.whenIdle();
        this.emit({ state: 'closed' });
        this.tracker.commit();
        options.cursor.close();
      },
      async (error: unknown) => {
        this.rejectReady(error as Error);
        await this.deliveries.whenIdle();
        this.tracker.commit();
        options.cursor.close();
        throw error;
      },
    );
    this.done.catch(() => undefined);
  }

  get handedOver(): boolean {
    return this.replacedBy !== undefined;
  }

  handOver(by?: { at: Date; by: string | undefined }): void {
    this.replacedBy = by ?? this.replacedBy ?? { at: new Date(), by: undefined };
    this.handOverController.abort();
  }

  async close(): Promise<void> {
    this.stopper.abort();
    this.rejectReady(new Error('tunnel closed'));
    await this.done.catch(skipped("the tunnel's last error, on close"));
  }

  private async run(): Promise<void> {
    const { options, relayUrls } = this;
    for (let attempt = 0; !this.stop.aborted; ) {
      this.emit({ state: 'connecting', attempt });
      let subscribed = false;
      const connection = new RelayConnection(this, relayUrls[this.urlIndex % relayUrls.length] as URL, () => {
        subscribed = true;
        this.resolveReady();
      });
      const end = await connection.ended;
      if (end.kind !== 'closed') throw this.failure(end);
      if (this.stop.aborted) break;
      // Failed to connect or subscribe here: the next instance of the relay, if there is one.
      if (!subscribed) this.urlIndex++;
      attempt = subscribed ? 0 : attempt + 1;
      // An instance not yet tried in this round: at once; a whole round failed: back off.
      const rotating = !subscribed && this.urlIndex % relayUrls.length !== 0;
      const reconnect = options.reconnect ?? { initialMs: RECONNECT_INITIAL_MS, maxMs: RECONNECT_MAX_MS };
      const delayMs = rotating ? 0 : backoffDelayMs(Math.floor(attempt / relayUrls.length), reconnect);
      this.emit({ state: 'reconnecting', attempt: attempt + 1, delayMs, reason: end.reason });
      await pause(delayMs, this.stop);
    }
  }

  /** The error that stops the tunnel after a connection ended for good. */
  private failure(end: Exclude<ConnectionEnd, { kind: 'closed' }>): Error {
    const { relayUrl, channel } = this.options;
    switch (end.kind) {
      case 'refused':
        return new TunnelAuthError(relayUrl.origin, channel);
      case 'revoked':
        return new TunnelRevokedError(relayUrl.origin, channel, end.deleted);
      case 'replaced': {
        const replacedBy = this.replacedBy ?? { at: new Date(), by: undefined };
        return new TunnelReplacedError(channel, replacedBy.at, replacedBy.by);
      }
    }
  }
}
