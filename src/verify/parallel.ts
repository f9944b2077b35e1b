import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { setImmediate } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { chunkChecker, RESULT_SLOT_BYTES, WORKER_READY, type ChunkJob, type ChunkResult, type ChunkSetup } from './chunk.js';
import { BOM_BYTES } from '../capture/lines.js';

/**
 * Verifying a large captures file on every core: this thread reads the file and cuts it
 * at line ends, worker threads check and format the pieces, and the results come back
 * here in input order (repeats are decided here, over the whole run). Checking is CPU
 * work (mostly JSON.parse and HMAC, which no single-threaded trick removes), so the
 * constants below all trade the same things: every thread kept busy, against memory
 * (each slot is a SharedArrayBuffer, and memory touched for the first time costs page
 * faults: ~3.6 ms per MiB against ~0.3 ms to fill a slot again) and per-piece overhead
 * (a postMessage, a merge, a result). The figures quoted were measured with
 * `npm run bench` on a 2-core machine (BENCHMARKS.md); re-measure there before changing one.
 */

/**
 * Pieces in flight per worker: one being checked, two waiting, so a worker always has
 * its next piece while this thread is busy with a piece of its own, merging or reading.
 * Lower (2): a worker ran dry for 5-15 ms at a time, 10-20% of the run. Higher: another
 * SLOT_BYTES of memory per worker, first-touched, and a longer in-order merge backlog,
 * for no more throughput (a worker cannot use more than the next piece).
 */
const IN_FLIGHT_PER_WORKER = 3;
/**
 * Pieces this thread may check and hold, unmerged, behind a worker's piece: so it goes
 * on working instead of waiting for that worker to answer. While a worker checks its
 * three, this thread checks two or three; one more is slack. Lower: this thread stalls
 * on the in-order merge while it could be checking. Higher: one more slot of memory
 * each, touched for the first time, which costs more than it saves on all but the
 * largest files.
 */
const AHEAD_HERE = 4;
/**
 * One piece of the file: about a thousand capture records. Larger: fewer messages and
 * merges per record, but memory grows with it (the pool holds workers * 3 + 4 slots),
 * the threads finish less evenly, and the first touch of each slot costs more. Smaller:
 * the per-piece overhead starts to show. It is also the longest line the slots carry;
 * a longer one is read into a Buffer of its own (readLongLine), which is slower.
 */
const SLOT_BYTES = 1024 * 1024;
/**
 * Pieces while a worker is still starting: a piece checked here holds this thread off
 * the event loop, and before V8 has compiled the checks a 1 MiB piece took 50-80 ms,
 * during which a worker that had become ready sat idle, unseen. Larger: that idle time
 * comes back. Smaller: more per-piece overhead in the ~60 ms workers take to start,
 * when this thread does all the work.
 */
const STARTING_PIECE_BYTES = 64 * 1024;
/**
 * The last few megabytes go in quarter-slot pieces: the threads then finish close
 * together, instead of this one waiting on a worker's last full pieces. A larger
 * ENDING_BYTES or smaller ENDING_PIECE_BYTES evens the finish further but pays the
 * per-piece overhead on more of the file; the other way, the run ends with this thread
 * idle, waiting on a worker's last full pieces.
 */
const ENDING_BYTES = 4 * SLOT_BYTES;
const ENDING_PIECE_BYTES = SLOT_BYTES / 4;
/**
 * A worker's young generation, in MiB: checking a piece makes only short-lived garbage,
 * and V8 otherwise grows it to 8 MiB of fresh memory (first-touch page faults, above)
 * for nothing. Measured: ~3,000 fewer page faults and ~6% less CPU per 100,000 requests.
 * Lower: scavenges come often enough that a piece's live objects get promoted to the
 * old generation, which then needs full collections. Higher: back towards V8's default
 * and its page faults.
 */
const WORKER_YOUNG_GENERATION_MB = 2;
const NEWLINE = 0x0a;

/** A piece being checked: `result` is set as soon as it is known. */
export interface PendingPiece {
  result?: ChunkResult;
  promise?: Promise<ChunkResult>;
}

/**
 * The worker's code: dist/verify/worker.cjs, the bundle scripts/bundle-cli.mjs makes (it
 * starts ~30 ms sooner than the ES modules), else dist/verify/worker.js as tsc builds it.
 * Spelled from the parent folder so they resolve the same from dist/verify/parallel.js
 * (the library) and from the bundled CLI in dist/bin/, whose import.meta.url is the
 * bundle's own file.
 */
const WORKER_BUNDLE_URL = new URL('../verify/worker.cjs', import.meta.url);
const WORKER_MODULE_URL = new URL('../verify/worker.js', import.meta.url);

interface PoolWorker {
  worker: Worker;
  /** Set once the worker said it is ready; until then it is given nothing. */
  ready: boolean;
  busy: number;
}

/**
 * `threads` checkers: this thread and threads - 1 workers. A piece goes to a ready worker
 * with room, else it is checked here at once; so this thread works while the workers
 * start up, and keeps them fed without waiting on them. A worker gets nothing before it
 * says it is ready: starting one takes ~60 ms here, and a piece sent at once kept the
 * in-order merge (and so this thread) waiting on it.
 */
export class VerifyPool {
  /** Where the reader puts pieces; one per piece not yet merged. */
  readonly slots: SharedArrayBuffer[];
  private readonly workers: PoolWorker[];
  private readonly here: (job: ChunkJob) => ChunkResult;
  private readonly waiting = new Map<number, { pending: PendingPiece; resolve(result: ChunkResult): void; reject(error: Error): void }>();
  private failure: Error | undefined;
  /** Settles when every worker is ready (or one failed). */
  private readonly allReady: Promise<void>;

  constructor(threads: number, setup: Omit<ChunkSetup, 'slots' | 'results'>) {
    const count = Math.max(1, threads - 1);
    this.slots = Array.from({ length: count * IN_FLIGHT_PER_WORKER + AHEAD_HERE }, () => new SharedArrayBuffer(SLOT_BYTES));
    const results = this.slots.map(() => new SharedArrayBuffer(RESULT_SLOT_BYTES));
    const shared: ChunkSetup = { ...setup, slots: this.slots, results };
    this.here = chunkChecker(shared);
    const workerUrl = existsSync(WORKER_BUNDLE_URL) ? WORKER_BUNDLE_URL : WORKER_MODULE_URL;
    const readiness: Promise<void>[] = [];
    this.workers = Array.from({ length: count }, () => {
      // The worker runs our compiled module and needs none of the parent's flags; some
      // (`node --input-type=module -e ...`) would even stop it from loading.
      const worker = new Worker(workerUrl, {
        workerData: shared,
        execArgv: [],
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      });
      const entry: PoolWorker = { worker, ready: false, busy: 0 };
      let markReady = (): void => undefined;
      readiness.push(new Promise<void>((resolve) => (markReady = resolve)));
      entry.worker.on('message', (result: ChunkResult | typeof WORKER_READY) => {
        if (result === WORKER_READY) {
          entry.ready = true;
          markReady();
          return;
        }
        entry.busy--;
        const waiter = this.waiting.get(result.seq);
        this.waiting.delete(result.seq);
        if (!waiter) return;
        waiter.pending.result = result;
        waiter.resolve(result);
      });
      entry.worker.on('error', (error) => this.fail(error));
      entry.worker.on('exit', (code) => {
        this.fail(new Error(`a verify worker stopped (exit code ${code})`));
        markReady();
      });
      return entry;
    });
    this.allReady = Promise.all(readiness).then(() => undefined);
  }

  /** How big the next piece should be, with `remaining` bytes of the file left to read. */
  pieceBytes(remaining: number): number {
    if (!this.workers.every((entry) => entry.ready)) return STARTING_PIECE_BYTES;
    return remaining <= ENDING_BYTES ? ENDING_PIECE_BYTES : SLOT_BYTES;
  }

  /**
   * Waits until every worker can take pieces, so the next ones are shared from the start
   * (tests use it: a small file is otherwise all checked here while the workers start).
   */
  async ready(): Promise<void> {
    await this.allReady;
    if (this.failure) throw this.failure;
  }

  /** Starts checking a piece: on the least busy ready worker with room, else here and now. */
  check(job: ChunkJob): PendingPiece {
    if (this.failure) throw this.failure;
    let target: PoolWorker | undefined;
    for (const entry of this.workers) {
      if (entry.ready && entry.busy < IN_FLIGHT_PER_WORKER && (!target || entry.busy < target.busy)) target = entry;
    }
    if (!target) return { result: this.here(job) };
    target.busy++;
    const pending: PendingPiece = {};
    pending.promise = new Promise<ChunkResult>((resolve, reject) => this.waiting.set(job.seq, { pending, resolve, reject }));
    // Awaited in order later; this keeps a failure from counting as unhandled meanwhile.
    pending.promise.catch(() => undefined);
    target.worker.postMessage(job, job.bytes ? [job.bytes.buffer] : []);
    return pending;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('verify workers closed');
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

/** What the reader hands out: a job but for its sequence number. */
export type Piece = Omit<ChunkJob, 'seq'>;

/**
 * Reads a file into the shared slots in turn (synchronously: a megabyte from the page
 * cache takes a fraction of a millisecond, less than an asynchronous read's round trip
 * through libuv's thread pool), each cut after its last newline (the rest
 * starts the next slot), numbered by first line: no buffer is allocated or posted per
 * piece. A line longer than a slot goes out in a Buffer of its own. A byte order mark
 * before the first line is dropped, as lineBatches does. Slot i % slots.length is
 * refilled only when asked for piece i, so the caller must be done with piece
 * i - slots.length by then. The pool says how much each piece may be (at most a
 * slot), given how much of the file is left: less while workers start, and at the end.
 */
export async function* filePieces(file: string, name: string, pool: Pick<VerifyPool, 'slots' | 'pieceBytes'>): AsyncGenerator<Piece> {
  const { slots } = pool;
  const fd = openSync(file, 'r');
  let unread = fstatSync(fd).size;
  try {
    const views = slots.map((slot) => Buffer.from(slot));
    let carry: Buffer = Buffer.alloc(0);
    let nextLine = 1;
    let eof = false;
    const numbered = (view: Buffer, start: number, end: number): number => {
      const first = nextLine;
      for (let i = view.indexOf(NEWLINE, start); i !== -1 && i < end; i = view.indexOf(NEWLINE, i + 1)) nextLine++;
      return first;
    };
    for (let index = 0; !eof; index++) {
      const slot = index % views.length;
      const whole = views[slot] as Buffer;
      let view = whole.subarray(0, Math.min(whole.length, Math.max(pool.pieceBytes(unread + carry.length), carry.length)));
      let filled = carry.copy(view, 0);
      let cut = 0;
      for (;;) {
        while (filled < view.length) {
          const bytesRead = readSync(fd, view, filled, view.length - filled, null);
          if (bytesRead === 0) {
            eof = true;
            break;
          }
          filled += bytesRead;
          unread -= bytesRead;
        }
        cut = eof ? filled : view.lastIndexOf(NEWLINE, filled - 1) + 1;
        // A small piece holding no whole line: the whole slot is tried before the line
        // gets a Buffer of its own.
        if (cut !== 0 || view.length === whole.length) break;
        view = whole;
      }
      if (filled === 0) break;
      if (cut === 0) {
        const long = readLongLine(fd, Buffer.from(view.subarray(0, filled)));
        eof = long.eof;
        carry = long.rest;
        const bytes = new Uint8Array(long.line.length);
        bytes.set(long.line);
        const firstLine = numbered(long.line, 0, long.line.length);
        yield {
          name,
          firstLine,
          slot: -1,
          start: 0,
          end: bytes.length,
          bytes: startsWithBom(firstLine, long.line) ? bytes.subarray(BOM_BYTES.length) : bytes,
        };
        continue;
      }
      carry = Buffer.from(view.subarray(cut, filled));
      const firstLine = numbered(view, 0, cut);
      yield { name, firstLine, slot, start: startsWithBom(firstLine, view) ? BOM_BYTES.length : 0, end: cut, bytes: undefined };
    }
  } finally {
    closeSync(fd);
  }
}

function startsWithBom(firstLine: number, bytes: Buffer): boolean {
  return firstLine === 1 && bytes[0] === BOM_BYTES[0] && bytes[1] === BOM_BYTES[1] && bytes[2] === BOM_BYTES[2];
}

/** Reads on from `head` (a slot's worth with no newline) to the end of its line. */
function readLongLine(fd: number, head: Buffer): { line: Buffer; rest: Buffer; eof: boolean } {
  const parts = [head];
  for (;;) {
    const chunk = Buffer.allocUnsafe(head.length);
    const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
    if (bytesRead === 0) return { line: Buffer.concat(parts), rest: Buffer.alloc(0), eof: true };
    const newline = chunk.subarray(0, bytesRead).indexOf(NEWLINE);
    if (newline === -1) {
      parts.push(chunk.subarray(0, bytesRead));
      continue;
    }
    parts.push(chunk.subarray(0, newline + 1));
    return { line: Buffer.concat(parts), rest: Buffer.from(chunk.subarray(newline + 1, bytesRead)), eof: false };
  }
}

/**
 * Checks every piece on the pool and hands the results to `merge` in input order, as
 * soon as they are ready; fewer pieces than slots are ever unmerged, so a slot is
 * refilled only after its last piece was merged (memory stays flat whatever the size).
 */
export async function checkInOrder(
  pool: VerifyPool,
  pieces: AsyncIterable<Piece>,
  merge: (result: ChunkResult) => Promise<void>,
): Promise<void> {
  const queue: PendingPiece[] = [];
  let seq = 0;
  const mergeFront = async (): Promise<void> => {
    const front = queue.shift() as PendingPiece;
    await merge(front.result ?? (await (front.promise as Promise<ChunkResult>)));
  };
  for await (const piece of pieces) {
    // Every job with the same keys in the same order: a spread made jobs of changing hidden
    // classes, and the checker's optimized code was thrown away on a new one.
    const pending = pool.check({
      seq: seq++,
      name: piece.name,
      firstLine: piece.firstLine,
      slot: piece.slot,
      start: piece.start,
      end: piece.end,
      bytes: piece.bytes,
    });
    queue.push(pending);
    // Checked here, the piece kept this thread off the event loop (the file is read
    // synchronously): let the workers' messages in, or a worker that has become ready
    // would never be given a piece.
    if (pending.result !== undefined) await setImmediate();
    while (queue.length > 0 && (queue[0]?.result !== undefined || queue.length >= pool.slots.length - 1)) await mergeFront();
  }
  while (queue.length > 0) await mergeFront();
}
