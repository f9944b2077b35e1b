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
const NEWLINE = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];

export class VerifyPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve(result: ChunkResult): void; reject(error: Error): void }>();
  private failure: Error | undefined;

  constructor(count: number, setup: ChunkSetup) {
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup });
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
    worker.postMessage(job, [job.bytes.buffer]);
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

/**
 * Cuts a byte stream into pieces of whole lines, each in an ArrayBuffer of its own (so
 * it moves to a worker without a copy), numbered by first line. A byte order mark
 * before the first line is dropped, as lineBatches does.
 */
export async function* linePieces(chunks: AsyncIterable<Buffer>, name: string): AsyncGenerator<Omit<ChunkJob, 'seq'>> {
  let carry: Buffer | undefined;
  let nextLine = 1;
  const piece = (from: Buffer[], length: number): Omit<ChunkJob, 'seq'> => {
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of from) {
      bytes.set(part, at);
      at += part.length;
    }
    const firstLine = nextLine;
    for (let i = bytes.indexOf(NEWLINE); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) nextLine++;
    const bom = firstLine === 1 && BOM.every((byte, i) => bytes[i] === byte);
    return { name, firstLine, bytes: bom ? bytes.subarray(BOM.length) : bytes };
  };
  for await (const chunk of chunks) {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
      continue;
    }
    const head = chunk.subarray(0, last + 1);
    yield carry ? piece([carry, head], carry.length + head.length) : piece([head], head.length);
    // Copied, so the big chunk it came from can be collected.
    carry = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : undefined;
  }
  // A last line without its newline: often half-written; its verdict says so.
  if (carry && carry.length > 0) yield piece([carry], carry.length);
}

/**
 * Checks every piece on the pool and hands the results to `merge` in input order,
 * with a bounded number in flight (memory stays flat however big the file).
 */
export async function checkInOrder(pool: VerifyPool, pieces: AsyncIterable<Omit<ChunkJob, 'seq'>>, merge: (result: ChunkResult) => Promise<void>): Promise<void> {
  const inFlight: Promise<ChunkResult>[] = [];
  let seq = 0;
  for await (const piece of pieces) {
    const result = pool.check({ ...piece, seq: seq++ });
    // Awaited in order below; this keeps a failure from counting as unhandled meanwhile.
    result.catch(() => undefined);
    inFlight.push(result);
    if (inFlight.length >= pool.size * IN_FLIGHT_PER_WORKER) await merge(await (inFlight.shift() as Promise<ChunkResult>));
  }
  while (inFlight.length > 0) await merge(await (inFlight.shift() as Promise<ChunkResult>));
}
