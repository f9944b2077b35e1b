/**
 * The relay's storage seam. The relay server only speaks these interfaces; the file
 * implementation (file-store.ts) is the embedded default, and a shared store (Redis
 * Streams: one stream per channel, the entry id as seq) can replace it without
 * touching the server or the protocol.
 */

import type { OutcomeNotice, RelayedEvent } from '../protocol/index.js';
import type { CustomAnswer } from './custom-answer.js';

/** What the listener's target answered for one event. */
export interface TargetAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** Who subscribed, for the line the replaced listener prints. */
export interface Newcomer {
  at: Date;
  by?: string;
}

/** A request as the relay received it, before it has a sequence number. */
export interface NewEvent {
  method: string;
  /** Path with query, relative to the channel URL. */
  path: string;
  rawHeaders: string[];
  body: Buffer;
  receivedAt: Date;
}

/**
 * A stored request: exact bytes, its place in the channel's order. The same shape the
 * protocol sends to listeners, so the store's events go on the wire as they are.
 */
export type StoredEvent = RelayedEvent;

/**
 * What the listener reported of an event it holds on FrontEngine's retry schedule
 * (retrying, then delivered or failed): the protocol's notice, kept as it came.
 */
export type EventOutcome = OutcomeNotice;

export interface ChannelRecord {
  id: string;
  /** sha256 of the token, hex: the token itself is never stored. */
  tokenHash: string;
  /** ISO 8601. */
  createdAt: string;
}

/** A token rotation: the stored hash changes to `to` only if it is still `from` (compare-and-set). */
export interface TokenReplacement {
  from: string;
  to: string;
}

/** Why a channel's listener must go: its token was replaced, or the channel is gone. */
export type Revocation = 'token-rotated' | 'channel-deleted';

export interface RetentionPolicy {
  /** Keep at most this many events per channel; older ones are dropped first. */
  maxEvents: number;
  /** Drop events older than this. */
  maxAgeMs: number;
}

/** Events retention removed, oldest first: reported to the operator and to listeners. */
export interface DroppedRange {
  channel: string;
  from: number;
  to: number;
  reason: string;
}

/** One channel's ordered, durable event log and its delivery cursor. */
export interface EventLog {
  readonly channel: string;
  /**
   * The log's identity, made at random when the log was created and kept with it: a
   * listener's cursor counts seqs in one log, and means nothing in another.
   */
  readonly id: string;
  /**
   * The newest seq stored (0 when nothing was ever stored): written, and durable unless
   * its sync is still running (see append).
   */
  head(): number;
  /** The oldest seq still kept (head() + 1 when the log is empty). */
  first(): number;
  /** The listener's acknowledged cursor: every seq ≤ acked() reached the app. */
  acked(): number;
  /**
   * Stores one event; resolves with its seq once it is durable, rejects when it could not
   * be stored. `written`, when given, gets the seq as soon as the event is readable
   * (before it is durable where the store can tell the two apart; otherwise just before
   * the promise resolves): a sender's wait for the answer starts there.
   */
  append(event: NewEvent, written?: (seq: number) => void): Promise<number>;
  /**
   * Streams the kept events with seq > after, in order, up to the head at the time each
   * is reached; memory does not grow with the backlog.
   */
  read(after: number): AsyncGenerator<StoredEvent>;
  /** Moves the acknowledged cursor forward (never back). */
  ack(seq: number): Promise<void>;
  /**
   * The newest seq ever sent to a listener (0: none): an event at or below it that is
   * sent again is a possible redelivery. Kept with the log, like acked().
   */
  pushed(): number;
  /** Events up to `seq` went out to a listener (never moves back). */
  notePushed(seq: number): void;
  /**
   * Moves the mark back to `seq`: a replaced listener said it handed nothing above it to
   * its app, and no other listener was sent those events.
   */
  unpush(seq: number): void;
  /** Applies the retention policy; says what it dropped. */
  applyRetention(now: Date): Promise<DroppedRange | undefined>;
  /** The latest outcome of each kept event with seq > after that has one (the listener retried it). */
  outcomes(after: number): Promise<Map<number, EventOutcome>>;
  /**
   * Keeps these outcomes (a later one for a seq replaces the earlier), durably before it
   * resolves, like the cursor beside them; seqs the log does not hold are ignored.
   */
  noteOutcomes(outcomes: readonly EventOutcome[]): Promise<void>;
  /** Only for a log shared by several relay instances (Redis): see SharedChannel. */
  readonly shared?: SharedChannel;
  /**
   * Shared logs only: writes what this instance holds back (cursor, pushed mark) and reads
   * what other instances wrote, so a listener moving between instances starts right.
   */
  refresh?(): Promise<void>;
}

/**
 * What a log shared by several relay instances adds: the listener may be connected to
 * another instance, so appends, presence and the target's answers cross instances.
 */
export interface SharedChannel {
  /**
   * A listener attached on this instance: other instances' appends call onAppend, and
   * onReplaced (with when and from where) when a listener attaches elsewhere. Returns the
   * function that detaches it.
   */
  listenerAttached(hooks: { onAppend: () => void; onReplaced: (by: Newcomer) => void }, newcomer: Newcomer): () => void;
  /**
   * Before a listener attached here starts: asks the listener attached on another
   * instance, if any, to finish what it is forwarding, and resolves once it has (its
   * instance said so), once it turns out to be gone (no reply), or after `timeoutMs`.
   */
  takeOver(newcomer: Newcomer, timeoutMs: number): Promise<void>;
  /** Hands the target's answer to the instance whose sender may be waiting for it. */
  publishAnswer(seq: number, answer: TargetAnswer): void;
  /**
   * After append, with no listener on this instance: waits for the listener connected to
   * another instance to answer; undefined when none is connected (or it went away).
   */
  remoteAnswer(seq: number, timeoutMs: number): Promise<TargetAnswer | undefined | 'timeout'>;
}

export interface ChannelStore {
  /**
   * Persists a new channel durably before resolving true; false, storing nothing, when
   * the store already holds maxChannels (counted from what is stored, so a restart keeps it).
   */
  createChannel(record: ChannelRecord, maxChannels?: number): Promise<boolean>;
  channel(id: string): Promise<ChannelRecord | undefined>;
  /** The channel's log; undefined for an unknown channel. */
  log(id: string): Promise<EventLog | undefined>;
  /**
   * Durable before it resolves. 'changed': the hash is no longer `from` (another rotation
   * came first); 'unknown': no such channel.
   */
  replaceToken(id: string, change: TokenReplacement): Promise<'replaced' | 'unknown' | 'changed'>;
  /** Removes the channel and its log, and frees its slot; false for an unknown channel. */
  deleteChannel(id: string): Promise<boolean>;
  /**
   * Only for a store shared by several relay instances: rotations and deletions made on
   * any instance (this one included), so each can close the listeners connected to it.
   */
  onRevoked?(handler: (id: string, revocation: Revocation) => void): void;
  /** The channel's custom answer while no listener is connected; undefined: the default 202. */
  customAnswer?(id: string): Promise<CustomAnswer | undefined>;
  /** Sets (or with undefined removes) it, durably; false for an unknown channel. */
  setCustomAnswer?(id: string, answer: CustomAnswer | undefined): Promise<boolean>;
  /** Every channel's log that is open, for periodic retention. */
  openLogs(): EventLog[];
  /** Flushes cursors and closes files. */
  close(): Promise<void>;
}
