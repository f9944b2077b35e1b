import { open, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { ChunkJob, ChunkResult, ChunkSetup } from './chunk.js';

/**
 * Verifying a large captures file on every core: this thread reads the file and cuts it
 * at line ends, worker threads check and format the pieces, and the results come back
 * here in input order (repeats are decided here, over the whole run). On the 2-core
 * machine this was measured on, one thread spent most of its time in JSON.parse and
 * HMAC, which no single-threaded trick removes.
 */

/** Pieces in flight per worker: one being checked, one waiting, so no worker idles. */
const IN_FLIGHT_PER_WORKER = 2;
/** One piece of the file: about a thousand capture records. */
const SLOT_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];

export class VerifyPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve(result: ChunkResult): void; reject(error: Error): void }>();
  private failure: Error | undefined;

  /** Where the reader puts pieces; one per piece in flight. */
  readonly slots: SharedArrayBuffer[];

  constructor(count: number, setup: Omit<ChunkSetup, 'slots'>) {
    this.slots = Array.from({ length: count * IN_FLIGHT_PER_WORKER }, () => new SharedArrayBuffer(SLOT_BYTES));
    const shared: ChunkSetup = { ...setup, slots: this.slots };
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: shared });
      worker.on('message', (result: ChunkResult) => {
        const waiter = this.waiting.get(result.seq);
        this.waiting.delete(result.seq);
        waiter?.resolve(result);
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => this.fail(new Error(`a verify worker stopped (exit code ${code})`)));
      return worker;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Checks one piece on the next worker in turn (pieces are all about the same size). */
  check(job: ChunkJob): Promise<ChunkResult> {
    if (this.failure) return Promise.reject(this.failure);
    const worker = this.workers[job.seq % this.workers.length] as Worker;
    const result = new Promise<ChunkResult>((resolve, reject) => this.waiting.set(job.seq, { resolve, reject }));
    worker.postMessage(job, job.bytes ? [job.bytes.buffer] : []);
    return result;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('verify workers closed');
    await Promise.all(this.workers.map((worker) => worker.terminate()));
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
 * Reads a file into the shared slots in turn, each cut after its last newline (the rest
 * starts the next slot), numbered by first line: no buffer is allocated or posted per
 * piece. A line longer than a slot goes out in a Buffer of its own. A byte order mark
 * before the first line is dropped, as lineBatches does. Slot i % slots.length is
 * refilled only when asked for piece i, so the caller must be done with piece
 * i - slots.length by then.
 */
export async function* filePieces(file: string, name: string, slots: readonly SharedArrayBuffer[]): AsyncGenerator<Piece> {
  const handle = await open(file, 'r');
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
      const view = views[slot] as Buffer;
      let filled = carry.copy(view, 0);
      while (filled < view.length) {
        const { bytesRead } = await handle.read(view, filled, view.length - filled, null);
        if (bytesRead === 0) {
          eof = true;
          break;
        }
        filled += bytesRead;
      }
      if (filled === 0) break;
      const cut = eof ? filled : view.lastIndexOf(NEWLINE, filled - 1) + 1;
      if (cut === 0) {
        const long = await readLongLine(handle, Buffer.from(view.subarray(0, filled)));
        eof = long.eof;
        carry = long.rest;
        const bytes = new Uint8Array(long.line.length);
        bytes.set(long.line);
        const firstLine = numbered(long.line, 0, long.line.length);
        yield { name, firstLine, slot: -1, start: 0, end: bytes.length, bytes: startsWithBom(firstLine, long.line) ? bytes.subarray(BOM.length) : bytes };
        continue;
      }
      carry = Buffer.from(view.subarray(cut, filled));
      const firstLine = numbered(view, 0, cut);
      yield { name, firstLine, slot, start: startsWithBom(firstLine, view) ? BOM.length : 0, end: cut };
    }
  } finally {
    await handle.close();
  }
}

function startsWithBom(firstLine: number, bytes: Buffer): boolean {
  return firstLine === 1 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
}

/** Reads on from `head` (a slot's worth with no newline) to the end of its line. */
async function readLongLine(handle: FileHandle, head: Buffer): Promise<{ line: Buffer; rest: Buffer; eof: boolean }> {
  const parts = [head];
  for (;;) {
    const chunk = Buffer.allocUnsafe(head.length);
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
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
 * Checks every piece on the pool and hands the results to `merge` in input order,
 * with a bounded number in flight (memory stays flat however big the file).
 */
export async function checkInOrder(pool: VerifyPool, pieces: AsyncIterable<Piece>, merge: (result: ChunkResult) => Promise<void>): Promise<void> {
  const inFlight: Promise<ChunkResult>[] = [];
  let seq = 0;
  for await (const piece of pieces) {
    const result = pool.check({ ...piece, seq: seq++ });
    // Awaited in order below; this keeps a failure from counting as unhandled meanwhile.
    result.catch(() => undefined);
    inFlight.push(result);
    if (inFlight.length >= pool.slots.length) await merge(await (inFlight.shift() as Promise<ChunkResult>));
  }
  while (inFlight.length > 0) await merge(await (inFlight.shift() as Promise<ChunkResult>));
}
