import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage } from '../errors.js';
import { describeRedisUrl } from './redis-url.js';
import { newLogId } from './log-identity.js';
import { ACK_SCRIPT, APPEND_SCRIPT, RedisEventLog, channelKeys, entryId, seqOf, type RedisCommands } from './redis-log.js';
import { DELETE_SCRIPT, REVOCATIONS_TOPIC, ROTATE_SCRIPT, decodeRevocation, encodeRevocation, type AdminCommands } from './redis-admin.js';
import { CLAIM_SCRIPT, RELEASE_SCRIPT, RedisSharedChannel, type SharedCommands } from './redis-shared.js';
import { parseCustomAnswer, type CustomAnswer } from './custom-answer.js';
import type { ChannelRecord, ChannelStore, DroppedRange, EventLog, RetentionPolicy, Revocation, TokenReplacement } from './store.js';
import { debugSkipped, skipped } from '../util/debug.js';

/** A channel's custom answer (custom-answer.ts), in the channel's hash slot. */
const answerKey = (id: string): string => `fe-webhooks:{${id}}:answer`;
/** The keys feDelete removes: the record, seq, stream, acked, listener, pushed, log-id, answer and outcomes keys. */
const CHANNEL_KEY_COUNT = 9;

/** A command Redis has not answered by then fails (→ 503) rather than waiting past FrontEngine's 5 s. */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 3_000;
/** Reconnect attempts back off up to this: the instance recovers within a second of Redis returning. */
const RECONNECT_MAX_MS = 1_000;
/** The blocking read of other instances' appends returns at least this often (to pick up new channels). */
const WATCH_BLOCK_MS = 1_000;
const WATCH_RETRY_MS = 250;
/** How many channels every instance sharing this Redis holds, for --max-channels. */
const CHANNEL_COUNT_KEY = 'fe-webhooks:channel-count';
const SCAN_BATCH = 1_000;

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  retention: RetentionPolicy;
  onDropped?: (dropped: DroppedRange) => void;
  /** Connection state changes and background errors, one line each (never the password). */
  onStatus?: (message: string, healthy: boolean) => void;
}

const CONNECTION: RedisOptions = {
  lazyConnect: true,
  // Never queue a command while Redis is away: the sender gets 503 now, not a late answer.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  retryStrategy: (times: number) => Math.min(times * 100, RECONNECT_MAX_MS),
};

/**
 * Channels and logs in Redis, shared by every relay instance pointed at it: a hash per
 * channel, a stream per channel's log (entry id 0-<seq>), the acked cursor, a presence
 * key for the listener. Three connections: commands, the blocking watch of appends, and
 * pub/sub for the target's answers.
 */
export class RedisChannelStore implements ChannelStore {
  private readonly logs = new Map<string, Promise<RedisEventLog>>();
  private readonly opened = new Map<string, RedisEventLog>();
  private readonly shared = new Map<string, RedisSharedChannel>();
  private readonly watched = new Map<string, () => void>();
  private readonly revokedHandlers: Array<(id: string, revocation: Revocation) => void> = [];
  private wakeWatch: (() => void) | undefined;
  private blockerId: number | undefined;
  private closed = false;
  private healthy = true;

  private constructor(
    private readonly options: RedisStoreOptions,
    private readonly redis: RedisCommands & SharedCommands & AdminCommands,
    private readonly blocker: Redis,
    private readonly subscriber: Redis,
  ) {}

  static async open(options: RedisStoreOptions): Promise<RedisChannelStore> {
    const redis = new Redis(options.url, CONNECTION) as RedisCommands & SharedCommands & AdminCommands;
    redis.defineCommand('feAppend', { numberOfKeys: 4, lua: APPEND_SCRIPT });
    redis.defineCommand('feAck', { numberOfKeys: 1, lua: ACK_SCRIPT });
    redis.defineCommand('feClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    redis.defineCommand('feRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    redis.defineCommand('feRotate', { numberOfKeys: 1, lua: ROTATE_SCRIPT });
    redis.defineCommand('feDelete', { numberOfKeys: CHANNEL_KEY_COUNT, lua: DELETE_SCRIPT });
    const blocker = redis.duplicate({ commandTimeout: WATCH_BLOCK_MS + COMMAND_TIMEOUT_MS });
    const subscriber = redis.duplicate({ commandTimeout: undefined });
    const all = [redis, blocker, subscriber];
    for (const connection of all) connection.on('error', skipped('a Redis connection error (ioredis reconnects)'));
    try {
      await Promise.all(all.map((connection) => connection.connect()));
    } catch (error) {
      for (const connection of all) connection.disconnect();
      throw new Error(`cannot reach Redis at ${describeRedisUrl(options.url)}: ${errorMessage(error)}`, { cause: error });
    }
    try {
      await initChannelCount(redis);
      // Before any request: a rotation or deletion on another instance must reach this one's listeners.
      await subscriber.subscribe(REVOCATIONS_TOPIC);
    } catch (error) {
      for (const connection of all) connection.disconnect();
      throw new Error(`cannot count the channels in Redis at ${describeRedisUrl(options.url)}: ${errorMessage(error)}`, { cause: error });
    }
    const store = new RedisChannelStore(options, redis, blocker, subscriber);
    store.track();
    void store.watchLoop();
    return store;
  }

  private status(message: string, healthy: boolean): void {
    this.options.onStatus?.(message, healthy);
  }

  /** While Redis is away the outage line says it all: no line per failed background call. */
  private backgroundError(message: string): void {
    if (this.healthy && !this.closed) this.status(message, false);
  }

  /** One line when Redis goes away, one when it is back: not one per failed request. */
  private track(): void {
    const where = describeRedisUrl(this.options.url);
    this.redis.on('error', (error: Error) => {
      if (!this.healthy || this.closed) return;
      this.healthy = false;
      this.status(`Redis at ${where} unreachable (${error.message}); answering 503 until it is back`, false);
    });
    this.redis.on('close', () => {
      if (!this.healthy || this.closed) return;
      this.healthy = false;
      this.status(`Redis at ${where} closed the connection; answering 503 until it is back`, false);
    });
    this.redis.on('ready', () => {
      if (this.healthy) return;
      this.healthy = true;
      this.status(`Redis at ${where} is back`, true);
      for (const log of this.opened.values()) void log.refresh().catch(skipped('refreshing a log after Redis came back'));
    });
    this.blocker.on('ready', () => void this.learnBlockerId());
    void this.learnBlockerId();
    this.subscriber.on('message', (topic: string, text: string) => {
      if (topic === REVOCATIONS_TOPIC) return this.revoked(text);
      const id = /^fe-webhooks:\{([^}]+)\}:answers$/.exec(topic)?.[1];
      if (id) this.shared.get(id)?.received(text);
    });
  }

  private revoked(text: string): void {
    const message = decodeRevocation(text);
    if (!message) return;
    if (message.revocation === 'channel-deleted') this.forget(message.channel);
    for (const handler of this.revokedHandlers) handler(message.channel, message.revocation);
  }

  onRevoked(handler: (id: string, revocation: Revocation) => void): void {
    this.revokedHandlers.push(handler);
  }

  async replaceToken(id: string, change: TokenReplacement): Promise<'replaced' | 'unknown' | 'changed'> {
    const result = await this.redis.feRotate(channelKeys(id).record, change.from, change.to);
    if (result === 0) return 'unknown';
    if (result < 0) return 'changed';
    await this.announce(id, 'token-rotated');
    return 'replaced';
  }

  async deleteChannel(id: string): Promise<boolean> {
    const keys = channelKeys(id);
    // Every key of the channel in one step (its log, cursor, pushed mark, identity, custom answer, outcomes).
    const others = [keys.seq, keys.stream, keys.acked, keys.listener, keys.pushed, keys.logId, answerKey(id), keys.outcomes];
    if ((await this.redis.feDelete(keys.record, ...others)) === 0) return false;
    // The shared count frees the slot; if Redis fails right here the count stays one high (see README: it is recounted when removed).
    await this.redis.decr(CHANNEL_COUNT_KEY).catch((error: unknown) => this.backgroundError(`channel count: ${errorMessage(error)}`));
    this.forget(id);
    await this.announce(id, 'channel-deleted');
    return true;
  }

  async customAnswer(id: string): Promise<CustomAnswer | undefined> {
    const text = await this.redis.get(answerKey(id));
    const answer = text === null ? undefined : parseCustomAnswer(text);
    return typeof answer === 'string' ? undefined : answer;
  }

  async setCustomAnswer(id: string, answer: CustomAnswer | undefined): Promise<boolean> {
    if ((await this.redis.exists(channelKeys(id).record)) === 0) return false;
    if (answer === undefined) await this.redis.del(answerKey(id));
    else await this.redis.set(answerKey(id), JSON.stringify(answer));
    return true;
  }

  /** Tells every instance (this one too). Already done in Redis: a failed notice is reported, not a failed rotation. */
  private async announce(id: string, revocation: Revocation): Promise<void> {
    await this.redis
      .publish(REVOCATIONS_TOPIC, encodeRevocation(id, revocation))
      .catch((error: unknown) => this.backgroundError(`telling other instances: ${errorMessage(error)}`));
  }

  /** Drops what this instance keeps of a deleted channel. */
  private forget(id: string): void {
    this.logs.delete(id);
    this.opened.delete(id);
    this.shared.delete(id);
    if (this.watched.has(id)) this.watch(id, undefined);
    void this.subscriber.unsubscribe(channelKeys(id).pubsub).catch(skipped('unsubscribing from a deleted channel'));
  }

  private async learnBlockerId(): Promise<void> {
    this.blockerId =
      Number(await this.blocker.client('ID').catch(skipped('learning the Redis watch connection id', Number.NaN))) || undefined;
  }

  async createChannel(record: ChannelRecord, maxChannels = Number.POSITIVE_INFINITY): Promise<boolean> {
    // INCR is atomic across instances: the cap is shared, a slot is taken before the record exists.
    if ((await this.redis.incr(CHANNEL_COUNT_KEY)) > maxChannels) {
      await this.redis.decr(CHANNEL_COUNT_KEY);
      return false;
    }
    try {
      await this.redis.hset(channelKeys(record.id).record, { tokenHash: record.tokenHash, createdAt: record.createdAt });
    } catch (error) {
      await this.redis.decr(CHANNEL_COUNT_KEY).catch(skipped('giving back the channel count after a failed create'));
      throw error;
    }
    return true;
  }

  async channel(id: string): Promise<ChannelRecord | undefined> {
    const value = await this.redis.hgetall(channelKeys(id).record);
    if (typeof value.tokenHash !== 'string' || typeof value.createdAt !== 'string') return undefined;
    // A listener subscribes right after this: it must start from Redis's cursor, not a stale copy.
    await this.opened.get(id)?.refresh();
    return { id, tokenHash: value.tokenHash, createdAt: value.createdAt };
  }

  async log(id: string): Promise<EventLog | undefined> {
    let log = this.logs.get(id);
    if (!log) {
      if ((await this.redis.exists(channelKeys(id).record)) === 0) return undefined;
      log = this.openLog(id);
      this.logs.set(id, log);
      log.catch(() => this.logs.delete(id));
    }
    return log;
  }

  private async openLog(id: string): Promise<RedisEventLog> {
    const shared = new RedisSharedChannel(id, {
      redis: this.redis,
      subscribe: async (topic) => {
        await this.subscriber.subscribe(topic);
      },
      watch: (channel, onAppend) => this.watch(channel, onAppend),
      onError: (message) => this.backgroundError(message),
    });
    this.shared.set(id, shared);
    const log = new RedisEventLog(id, {
      redis: this.redis,
      retention: this.options.retention,
      shared,
      ...(this.options.onDropped ? { onDropped: this.options.onDropped } : {}),
      onError: (message) => this.backgroundError(message),
    });
    await shared.ready();
    log.id = await this.logId(id);
    await log.refresh();
    this.opened.set(id, log);
    return log;
  }

  /**
   * The log's identity: made at random by whichever instance opens the log first (SET NX,
   * so all instances agree), kept in Redis beside the stream, AOF-durable like it.
   */
  private async logId(channel: string): Promise<string> {
    const key = channelKeys(channel).logId;
    await this.redis.set(key, newLogId(), 'NX');
    const id = await this.redis.get(key);
    if (id === null) throw new Error(`no log identity for channel ${channel} in Redis`);
    return id;
  }

  private watch(channel: string, onAppend: (() => void) | undefined): void {
    if (onAppend) this.watched.set(channel, onAppend);
    else this.watched.delete(channel);
    this.wakeWatch?.();
    // The blocking read in progress still has the old set of streams: end it now.
    if (this.blockerId !== undefined) void this.redis.client('UNBLOCK', this.blockerId).catch(skipped('unblocking the Redis watch'));
  }

  /** Blocks on the streams of channels whose listener is here, so other instances' appends reach it at once. */
  private async watchLoop(): Promise<void> {
    let failed = false;
    while (!this.closed) {
      const logs = [...this.watched.keys()].flatMap((id) => this.opened.get(id) ?? []);
      if (logs.length === 0) {
        await new Promise<void>((resolve) => (this.wakeWatch = resolve));
        this.wakeWatch = undefined;
        continue;
      }
      try {
        const result = await this.blocker.xreadBuffer(
          'COUNT',
          1,
          'BLOCK',
          WATCH_BLOCK_MS,
          'STREAMS',
          ...logs.map((log) => log.streamKey),
          ...logs.map((log) => entryId(log.head())),
        );
        for (const [key, entries] of result ?? []) {
          const log = logs.find((candidate) => candidate.streamKey === key.toString());
          if (!log) continue;
          for (const [entry] of entries) log.noteHead(seqOf(entry));
          this.watched.get(log.channel)?.();
        }
        if (failed) {
          failed = false;
          // Appends made while the watch was down are not new to XREAD: look at every log once.
          for (const wake of this.watched.values()) wake();
        }
      } catch (error) {
        debugSkipped('the Redis watch (retrying)', error);
        if (this.closed) return;
        failed = true;
        await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
      }
    }
  }

  openLogs(): EventLog[] {
    return [...this.opened.values()];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeWatch?.();
    await Promise.allSettled([...this.opened.values()].map((log) => log.refresh()));
    for (const connection of [this.redis, this.blocker, this.subscriber]) connection.disconnect();
  }
}

/**
 * The shared count starts from the channels already in Redis (made before the count
 * existed); SET NX so an instance starting at the same time does not count twice.
 */
async function initChannelCount(redis: Redis): Promise<void> {
  if ((await redis.exists(CHANNEL_COUNT_KEY)) === 1) return;
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', channelKeys('*').record, 'COUNT', SCAN_BATCH);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  await redis.set(CHANNEL_COUNT_KEY, count, 'NX');
}
