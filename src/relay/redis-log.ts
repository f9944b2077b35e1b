import type { Redis } from 'ioredis';
import { readNotices } from '../protocol/index.js';
import type { DroppedRange, EventLog, EventOutcome, NewEvent, RetentionPolicy, SharedChannel, StoredEvent } from './store.js';
import { debugSkipped, skipped } from '../util/debug.js';

/** Entries fetched per XRANGE: bodies can be large, so pages stay small. */
const READ_PAGE_EVENTS = 16;
/** The pushed mark reaches Redis at most this late (see notePushed). */
const PUSHED_FLUSH_MS = 100;
/** Entries inspected per XRANGE when looking for the age limit. */
const RETENTION_PAGE_EVENTS = 256;

/** The Redis keys of one channel. One hash slot prefix per channel keeps a Lua call on one node. */
export function channelKeys(id: string): {
  record: string;
  seq: string;
  stream: string;
  acked: string;
  pushed: string;
  logId: string;
  listener: string;
  pubsub: string;
  outcomes: string;
} {
  const base = `fe-webhooks:{${id}}`;
  return {
    record: `${base}:channel`,
    seq: `${base}:seq`,
    stream: `${base}:log`,
    acked: `${base}:acked`,
    pushed: `${base}:pushed`,
    logId: `${base}:log-id`,
    listener: `${base}:listener`,
    pubsub: `${base}:answers`,
    /** The listener's retry outcomes: a hash, seq → the notice as JSON. */
    outcomes: `${base}:outcomes`,
  };
}

/** `0-<seq>`: the stream entry id is the seq, given by the append script. */
export const entryId = (seq: number): string => `0-${seq}`;

export function seqOf(id: string | Buffer): number {
  const text = id.toString();
  return Number(text.slice(text.indexOf('-') + 1));
}

/** The Lua scripts, registered on the command connection by the store. */
export interface RedisLogCommands {
  /**
   * INCRBY seq + XADD 0-<seq> for each event (trimmed to MAXLEN) in one atomic step →
   * [seqs, first kept entry id, listener present]. ARGV: maxLen, then 5 per event. Fails
   * when the channel record is gone (deleted on any instance): nothing is stored.
   */
  feAppend(
    seqKey: string,
    streamKey: string,
    listenerKey: string,
    recordKey: string,
    maxLen: number,
    ...fields: Array<string | Buffer>
  ): Promise<[number[], string, number]>;
  /** Moves the acked cursor forward only (also the pushed mark: any "never back" number). */
  feAck(ackedKey: string, seq: number): Promise<number>;
}

export type RedisCommands = Redis & RedisLogCommands;

export const APPEND_SCRIPT = `
if redis.call('EXISTS', KEYS[4]) == 0 then return redis.error_reply('fe-webhooks: the channel was deleted') end
local count = (#ARGV - 1) / 5
local seq = redis.call('INCRBY', KEYS[1], count) - count
local seqs = {}
for i = 0, count - 1 do
  local a = 2 + i * 5
  seq = seq + 1
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], '0-' .. seq,
    'm', ARGV[a], 'p', ARGV[a + 1], 'h', ARGV[a + 2], 't', ARGV[a + 3], 'b', ARGV[a + 4])
  seqs[#seqs + 1] = seq
end
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
return {seqs, first[1][1], redis.call('EXISTS', KEYS[3])}
`;

/** Appends waiting for the batch in flight: one script call (one fsync in Redis) per batch. */
const BATCH_MAX_EVENTS = 128;
const BATCH_MAX_BYTES = 4 * 1024 * 1024;
const BATCHES_IN_FLIGHT = 2;

interface PendingAppend {
  event: NewEvent;
  resolve: (seq: number) => void;
  reject: (error: Error) => void;
}

export const ACK_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

function decodeEntry(id: Buffer, fields: Buffer[]): StoredEvent | undefined {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set((fields[i] as Buffer).toString(), fields[i + 1] as Buffer);
  const method = values.get('m');
  const body = values.get('b');
  if (!method || !body) return undefined;
  try {
    const rawHeaders = JSON.parse(values.get('h')?.toString() ?? '[]') as unknown;
    if (!Array.isArray(rawHeaders) || !rawHeaders.every((h) => typeof h === 'string')) return undefined;
    return {
      seq: seqOf(id),
      method: method.toString(),
      path: values.get('p')?.toString() ?? '/',
      rawHeaders,
      body,
      receivedAt: values.get('t')?.toString() ?? '',
    };
  } catch (error) {
    debugSkipped('a Redis stream entry that does not decode', error);
    return undefined;
  }
}

export interface RedisLogContext {
  redis: RedisCommands;
  retention: RetentionPolicy;
  shared: SharedChannel & { noteAppend(seq: number, listenerPresent: boolean): void };
  onDropped?: (dropped: DroppedRange) => void;
  /** Read errors end a read early (the listener's instance retries when Redis is back). */
  onError(message: string): void;
}

/**
 * One channel's log as a Redis stream. Every instance may append; head/first/acked are
 * this instance's latest knowledge, refreshed on appends, on reads, on the blocking
 * watch of other instances' appends and whenever a listener subscribes.
 */
export class RedisEventLog implements EventLog {
  private headSeq = 0;
  private firstSeq = 1;
  private ackedSeq = 0;
  private pushedSeq = 0;
  private pushedTimer: NodeJS.Timeout | undefined;
  /** The log's identity (log-identity.ts), read or made by the store when it opens the log. */
  id = '';
  /** An acked cursor Redis has not confirmed yet (Redis down): written with the next ack or refresh. */
  private unsavedAck = 0;
  private readonly keys: ReturnType<typeof channelKeys>;
  private readonly pending: PendingAppend[] = [];
  private batchesInFlight = 0;
  /**
   * No event can be past the age limit before this time (the oldest kept one's time plus
   * the limit; events only come newer): an idle channel costs Redis no command per pass.
   */
  private ageCheckDueMs = 0;

  constructor(
    readonly channel: string,
    private readonly context: RedisLogContext,
  ) {
    this.keys = channelKeys(channel);
  }

  get shared(): SharedChannel {
    return this.context.shared;
  }

  get streamKey(): string {
    return this.keys.stream;
  }

  head(): number {
    return this.headSeq;
  }

  first(): number {
    return Math.max(this.firstSeq, 1);
  }

  acked(): number {
    return this.ackedSeq;
  }

  /** Reads head, first and acked from Redis. */
  async refresh(): Promise<void> {
    if (this.unsavedAck > 0) await this.ack(this.unsavedAck);
    if (this.pushedTimer) {
      // Also on close: the mark waiting for its timer is written now.
      clearTimeout(this.pushedTimer);
      this.pushedTimer = undefined;
      await this.context.redis.feAck(this.keys.pushed, this.pushedSeq).catch(skipped('writing the pushed mark to Redis'));
    }
    const [head, acked, first, pushed] = await Promise.all([
      this.context.redis.get(this.keys.seq),
      this.context.redis.get(this.keys.acked),
      this.context.redis.xrange(this.keys.stream, '-', '+', 'COUNT', 1),
      this.context.redis.get(this.keys.pushed),
    ]);
    this.noteHead(Number(head ?? 0));
    this.ackedSeq = Math.max(this.ackedSeq, Number(acked ?? 0));
    // Redis's mark is the truth (this instance's own was written above): it may have moved back.
    this.pushedSeq = Math.max(Number(pushed ?? 0), this.ackedSeq);
    const oldest = first[0];
    this.firstSeq = oldest ? seqOf(oldest[0]) : this.headSeq + 1;
  }

  /** Another instance appended up to `seq` (seen by the watch). */
  noteHead(seq: number): void {
    if (seq > this.headSeq) this.headSeq = seq;
  }

  /**
   * Group commit, as the file log does: appends that arrive while batches are in Redis go
   * together in the next one, so Redis fsyncs once per batch (appendfsync always).
   */
  append(event: NewEvent, written?: (seq: number) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      // Redis says the seq only once it has the event durably: readable and durable at once.
      this.pending.push({ event, resolve: written ? (seq) => (written(seq), resolve(seq)) : resolve, reject });
      this.sendBatches();
    });
  }

  /** Two batches in flight: Redis reads the next while it fsyncs the last; one connection keeps them in order. */
  private sendBatches(): void {
    while (this.pending.length > 0 && this.batchesInFlight < BATCHES_IN_FLIGHT) {
      let bytes = 0;
      let count = 0;
      while (count < this.pending.length && count < BATCH_MAX_EVENTS && (count === 0 || bytes < BATCH_MAX_BYTES)) {
        bytes += (this.pending[count] as PendingAppend).event.body.length;
        count++;
      }
      this.batchesInFlight++;
      void this.sendBatch(this.pending.splice(0, count)).finally(() => {
        this.batchesInFlight--;
        this.sendBatches();
      });
    }
  }

  private async sendBatch(batch: PendingAppend[]): Promise<void> {
    const fields = batch.flatMap(({ event }) => [
      event.method,
      event.path,
      JSON.stringify(event.rawHeaders),
      event.receivedAt.toISOString(),
      event.body,
    ]);
    try {
      const [seqs, firstId, present] = await this.context.redis.feAppend(
        this.keys.seq,
        this.keys.stream,
        this.keys.listener,
        this.keys.record,
        this.context.retention.maxEvents,
        ...fields,
      );
      this.firstSeq = Math.max(this.firstSeq, seqOf(firstId));
      for (const [i, pending] of batch.entries()) {
        const seq = seqs[i] as number;
        this.noteHead(seq);
        this.context.shared.noteAppend(seq, present === 1);
        pending.resolve(seq);
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    }
  }

  async *read(after: number): AsyncGenerator<StoredEvent> {
    let cursor = after;
    for (;;) {
      let page: Array<[Buffer, Buffer[]]>;
      try {
        page = await this.context.redis.xrangeBuffer(this.keys.stream, `(${entryId(cursor)}`, '+', 'COUNT', READ_PAGE_EVENTS);
      } catch (error) {
        this.context.onError(`reading ${this.channel}: ${(error as Error).message}`);
        return;
      }
      if (page.length === 0) return;
      for (const [id, fields] of page) {
        cursor = seqOf(id);
        this.noteHead(cursor);
        const event = decodeEntry(id, fields);
        if (event) yield event;
      }
    }
  }

  async ack(seq: number): Promise<void> {
    if (seq <= this.ackedSeq && this.unsavedAck === 0) return;
    const target = Math.max(seq, this.unsavedAck);
    this.ackedSeq = Math.max(this.ackedSeq, target);
    try {
      await this.context.redis.feAck(this.keys.acked, target);
      if (this.unsavedAck <= target) this.unsavedAck = 0;
    } catch (error) {
      debugSkipped('writing an ack to Redis (kept, written when Redis is back)', error);
      // Redis down: kept, and written when it is back; the listener's own cursor covers the gap.
      this.unsavedAck = Math.max(this.unsavedAck, target);
    }
  }

  pushed(): number {
    return this.pushedSeq;
  }

  /**
   * Written to Redis at most every PUSHED_FLUSH_MS, without waiting (the events are on
   * their way already): one more fsync'd write per batch would cost appends. A write lost
   * to a crash or an outage only means a later redelivery goes unmarked.
   */
  notePushed(seq: number): void {
    if (seq <= this.pushedSeq) return;
    this.pushedSeq = seq;
    if (this.pushedTimer) return;
    this.pushedTimer = setTimeout(() => {
      this.pushedTimer = undefined;
      void this.context.redis.feAck(this.keys.pushed, this.pushedSeq).catch(skipped('writing the pushed mark to Redis'));
    }, PUSHED_FLUSH_MS);
    this.pushedTimer.unref();
  }

  unpush(seq: number): void {
    if (seq >= this.pushedSeq) return;
    this.pushedSeq = Math.max(seq, this.ackedSeq);
    if (this.pushedTimer) clearTimeout(this.pushedTimer);
    this.pushedTimer = undefined;
    // A plain SET: the one place the mark moves back (one listener at a time holds a channel).
    void this.context.redis.set(this.keys.pushed, this.pushedSeq).catch(skipped('resetting the pushed mark in Redis'));
  }

  /** Outcomes of events retention dropped are removed here, as they are found. */
  async outcomes(after: number): Promise<Map<number, EventOutcome>> {
    const stored = await this.context.redis.hgetall(this.keys.outcomes);
    const found = new Map<number, EventOutcome>();
    const stale: string[] = [];
    for (const [field, text] of Object.entries(stored)) {
      const seq = Number(field);
      if (!(seq >= this.first())) {
        stale.push(field);
        continue;
      }
      if (seq <= after) continue;
      const notice = parseOutcome(text);
      if (notice?.seq === seq) found.set(seq, notice);
    }
    if (stale.length > 0) void this.context.redis.hdel(this.keys.outcomes, ...stale).catch(skipped('removing outcomes of dropped events'));
    return found;
  }

  /** One HSET, AOF-durable like the stream beside it. */
  async noteOutcomes(outcomes: readonly EventOutcome[]): Promise<void> {
    const fields = outcomes
      .filter((outcome) => outcome.seq >= this.first() && outcome.seq <= this.headSeq)
      .flatMap((outcome) => [String(outcome.seq), JSON.stringify(outcome)]);
    if (fields.length > 0) await this.context.redis.hset(this.keys.outcomes, ...fields);
  }

  /** The count limit is applied by every append (MAXLEN); the age limit here, with MINID. */
  async applyRetention(now: Date): Promise<DroppedRange | undefined> {
    if (now.getTime() < this.ageCheckDueMs) return undefined;
    const cutoff = now.getTime() - this.context.retention.maxAgeMs;
    let keepFrom: number | undefined;
    let keptAt = now.getTime();
    let scanned = 0;
    let start = '-';
    while (keepFrom === undefined) {
      const page = await this.context.redis.xrange(this.keys.stream, start, '+', 'COUNT', RETENTION_PAGE_EVENTS);
      if (page.length === 0) break;
      for (const [id, fields] of page) {
        const at = Date.parse(fields[fields.indexOf('t') + 1] ?? '');
        if (!(at < cutoff)) {
          keepFrom = seqOf(id);
          if (at <= now.getTime()) keptAt = at;
          break;
        }
        scanned++;
      }
      start = `(${(page[page.length - 1] as [string, string[]])[0]}`;
    }
    const dueMs = keptAt + this.context.retention.maxAgeMs;
    if (scanned === 0) {
      this.ageCheckDueMs = dueMs;
      return undefined;
    }
    const from = this.first();
    const next = keepFrom ?? this.headSeq + 1;
    await this.context.redis.xtrim(this.keys.stream, 'MINID', entryId(next));
    this.ageCheckDueMs = dueMs;
    this.firstSeq = Math.max(this.firstSeq, next);
    const dropped = {
      channel: this.channel,
      from,
      to: next - 1,
      reason: `older than ${Math.round(this.context.retention.maxAgeMs / 1000)} s`,
    };
    this.context.onDropped?.(dropped);
    return dropped;
  }
}

/** A stored outcome, checked as the listener's message was; undefined when it is not one. */
function parseOutcome(text: string): EventOutcome | undefined {
  try {
    const notices = readNotices([JSON.parse(text) as unknown]);
    return typeof notices === 'string' ? undefined : notices[0];
  } catch (error) {
    debugSkipped('a stored outcome that does not parse', error);
    return undefined;
  }
}
