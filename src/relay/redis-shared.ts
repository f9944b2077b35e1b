import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Newcomer, TargetAnswer } from './store.js';
import { channelKeys } from './redis-log.js';
import type { SharedChannel } from './store.js';
import { waitForAnswer } from './answer-waiters.js';
import { SharedTicker } from './shared-ticker.js';
import { debugSkipped, skipped } from '../util/debug.js';

/** The listener's presence key lives this long unless refreshed: a killed instance's claim fades fast. */
export const PRESENCE_TTL_MS = 6_000;
const PRESENCE_REFRESH_MS = 2_000;
/** Every listener's presence refresh on this instance, on one timer (not one interval per listener). */
const presenceRefreshes = new SharedTicker(PRESENCE_REFRESH_MS);
/** Answers that arrived before their sender registered (two sockets race): kept this many per channel, this long. */
const EARLY_ANSWERS_MAX = 64;
const EARLY_ANSWER_TTL_MS = 2_000;
/** A live instance answers a takeover notice within this; silence means its listener is gone. */
const DRAINING_REPLY_MS = 500;
/** Seqs whose sender may ask for a remote answer; far more than can be waiting within 5 s. */
const REMOTE_SEQS_MAX = 100_000;

/** Messages on a channel's pub/sub topic between relay instances. */
type SharedMessage =
  | { kind: 'answer'; seq: number; status: number; headers: Array<[string, string]>; body: string }
  | { kind: 'attached'; owner: string; at?: string; by?: string }
  | { kind: 'detached'; owner: string }
  | { kind: 'taking-over'; from: string; at: string; by?: string }
  | { kind: 'draining'; owner: string };

/** Sets the presence key only when it is free or already ours. */
export const CLAIM_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] and ARGV[3] == 'refresh' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;
/** Deletes the presence key only when it is ours. */
export const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface SharedCommands {
  feClaim(key: string, owner: string, ttlMs: number, mode: 'attach' | 'refresh'): Promise<number>;
  feRelease(key: string, owner: string): Promise<number>;
}

export interface SharedHub {
  redis: Redis & SharedCommands;
  /** Subscribes this instance to a topic (idempotent); resolves once Redis confirmed. */
  subscribe(topic: string): Promise<void>;
  /** Starts or stops the blocking watch of this channel's stream. */
  watch(channel: string, onAppend: (() => void) | undefined): void;
  onError(message: string): void;
}

type Waiter = (answer: TargetAnswer | undefined) => void;

/**
 * One channel's cross-instance side: presence of its listener (a key with a TTL), the
 * target's answers and attach/detach notices (pub/sub), the watch of other instances'
 * appends (the store's blocking XREAD).
 */
export class RedisSharedChannel implements SharedChannel {
  private readonly keys: ReturnType<typeof channelKeys>;
  private readonly waiters = new Map<number, Waiter>();
  private readonly early = new Map<number, { answer: TargetAnswer; atMs: number }>();
  /** Seqs appended here while a listener was connected to another instance. */
  private readonly remoteSeqs = new Set<number>();
  private owner: string | undefined;
  private onReplaced: ((by: Newcomer) => void) | undefined;
  private subscribed: Promise<void> | undefined;
  /** Takeovers waiting on the listener of another instance, by its presence owner. */
  private readonly handovers = new Map<string, { draining: () => void; detached: () => void }>();

  constructor(
    readonly channel: string,
    private readonly hub: SharedHub,
  ) {
    this.keys = channelKeys(channel);
  }

  /** Before the first append: an answer published later must find this instance listening. */
  ready(): Promise<void> {
    this.subscribed ??= this.hub.subscribe(this.keys.pubsub).catch((error: unknown) => {
      this.subscribed = undefined;
      throw error;
    });
    return this.subscribed;
  }

  noteAppend(seq: number, listenerPresent: boolean): void {
    if (!listenerPresent || this.owner !== undefined) return;
    // Bounded: a seq whose sender took the local path after all is never asked for.
    if (this.remoteSeqs.size >= REMOTE_SEQS_MAX) this.remoteSeqs.clear();
    this.remoteSeqs.add(seq);
  }

  listenerAttached(hooks: { onAppend: () => void; onReplaced: (by: Newcomer) => void }, newcomer: Newcomer): () => void {
    const owner = randomUUID();
    this.owner = owner;
    this.onReplaced = hooks.onReplaced;
    this.hub.watch(this.channel, hooks.onAppend);
    const claim = (mode: 'attach' | 'refresh'): Promise<unknown> =>
      this.hub.redis
        .feClaim(this.keys.listener, owner, PRESENCE_TTL_MS, mode)
        .catch((error: unknown) => this.hub.onError(`listener presence: ${(error as Error).message}`));
    void this.ready()
      .then(() => claim('attach'))
      .then(() => this.publish({ kind: 'attached', owner, at: newcomer.at.toISOString(), ...(newcomer.by ? { by: newcomer.by } : {}) }))
      .catch(skipped('announcing a listener in Redis'));
    const stopRefresh = presenceRefreshes.add(() => void claim('refresh'));
    return () => {
      stopRefresh();
      if (this.owner !== owner) return;
      this.owner = undefined;
      this.onReplaced = undefined;
      this.hub.watch(this.channel, undefined);
      void this.hub.redis
        .feRelease(this.keys.listener, owner)
        .then(() => this.publish({ kind: 'detached', owner }))
        .catch(skipped('releasing a listener in Redis'));
    };
  }

  async takeOver(newcomer: Newcomer, timeoutMs: number): Promise<void> {
    if (this.owner !== undefined) return;
    let current: string | null;
    try {
      await this.ready();
      current = await this.hub.redis.get(this.keys.listener);
    } catch (error) {
      debugSkipped("looking up the channel's listener in Redis", error);
      return;
    }
    if (!current) return;
    const from = current;
    let draining!: () => void;
    let detached!: () => void;
    const drainingSaid = new Promise<void>((resolve) => (draining = resolve));
    const detachedSaid = new Promise<void>((resolve) => (detached = resolve));
    this.handovers.set(from, { draining, detached: () => (draining(), detached()) });
    const timers: NodeJS.Timeout[] = [];
    const after = (ms: number): Promise<'late'> => new Promise((resolve) => timers.push(setTimeout(() => resolve('late'), ms)));
    try {
      this.publish({ kind: 'taking-over', from, at: newcomer.at.toISOString(), ...(newcomer.by ? { by: newcomer.by } : {}) });
      // A dead instance's presence key outlives it by up to PRESENCE_TTL_MS: no reply, no wait.
      if ((await Promise.race([drainingSaid, after(DRAINING_REPLY_MS)])) === 'late') return;
      await Promise.race([detachedSaid, after(timeoutMs)]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
      this.handovers.delete(from);
    }
  }

  publishAnswer(seq: number, answer: TargetAnswer): void {
    this.publish({ kind: 'answer', seq, status: answer.status, headers: answer.headers, body: answer.body.toString('base64') });
  }

  remoteAnswer(seq: number, timeoutMs: number): Promise<TargetAnswer | undefined | 'timeout'> {
    if (!this.remoteSeqs.delete(seq)) return Promise.resolve(undefined);
    const early = this.early.get(seq);
    if (early) {
      this.early.delete(seq);
      return Promise.resolve(early.answer);
    }
    return waitForAnswer(this.waiters, seq, timeoutMs);
  }

  /** A message on this channel's topic, from any instance (this one included). */
  received(text: string): void {
    let message: SharedMessage;
    try {
      message = JSON.parse(text) as SharedMessage;
    } catch (error) {
      debugSkipped('a shared-channel message that does not parse', error);
      return;
    }
    if (message.kind === 'answer') {
      const answer: TargetAnswer = { status: message.status, headers: message.headers, body: Buffer.from(message.body, 'base64') };
      const wake = this.waiters.get(message.seq);
      if (wake) {
        this.waiters.delete(message.seq);
        wake(answer);
      } else {
        // Most are answers nobody here waits for (backlog, other senders): kept briefly, bounded.
        const nowMs = Date.now();
        this.early.set(message.seq, { answer, atMs: nowMs });
        for (const [seq, kept] of this.early) {
          if (this.early.size <= EARLY_ANSWERS_MAX && nowMs - kept.atMs < EARLY_ANSWER_TTL_MS) break;
          this.early.delete(seq);
        }
      }
      return;
    }
    if (message.kind === 'taking-over') {
      if (this.owner === undefined || message.from !== this.owner) return;
      // Tell the newer listener's instance this one is finishing; 'detached' follows when done.
      this.publish({ kind: 'draining', owner: this.owner });
      const at = Number.isNaN(Date.parse(message.at)) ? new Date() : new Date(message.at);
      this.onReplaced?.({ at, ...(typeof message.by === 'string' ? { by: message.by } : {}) });
      return;
    }
    if (message.kind === 'draining') {
      this.handovers.get(message.owner)?.draining();
      return;
    }
    if (message.kind === 'detached') this.handovers.get(message.owner)?.detached();
    if (message.kind === 'attached' && this.owner !== undefined && message.owner !== this.owner) {
      // One listener per channel, as on a single relay: the newest wins.
      const at = message.at !== undefined && !Number.isNaN(Date.parse(message.at)) ? new Date(message.at) : new Date();
      this.onReplaced?.({ at, ...(typeof message.by === 'string' ? { by: message.by } : {}) });
      return;
    }
    if (message.kind === 'detached' && this.owner === undefined) {
      // Senders waiting here get 202: their events are stored and wait for the next listener.
      for (const wake of this.waiters.values()) wake(undefined);
      this.waiters.clear();
      this.remoteSeqs.clear();
    }
  }

  private publish(message: SharedMessage): void {
    void this.hub.redis
      .publish(this.keys.pubsub, JSON.stringify(message))
      .catch((error: unknown) => this.hub.onError(`publishing to other instances: ${(error as Error).message}`));
  }
}
