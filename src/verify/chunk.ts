import { EVENT_NAMES } from '../events/catalog.js';
import { PreparedSecrets } from '../signing/index.js';
import { checkCounted, type CheckContext, type CheckCounts } from './checks.js';
import { captureLineToItem } from './jsonl.js';
import { isBlankLine } from '../capture/lines.js';
import { reporterFromSpec } from './reporters/index.js';
import type { Reporter, ReporterSpec } from './reporters/reporter.js';

/**
 * Checking a piece of a captures file in a worker thread: every line is checked and
 * formatted there; what only the main thread can decide (repeats across the whole run,
 * in input order) goes back as numbers. Kept free of worker_threads so it runs anywhere.
 */
export interface ChunkSetup {
  secrets: string[];
  event?: string;
  maxAgeMs?: number;
  ignoreAppStatus?: boolean;
  nowMs: number;
  reporter: ReporterSpec;
  /** Also format failing verdicts as text lines, to say them on the console (`failures`). */
  echoFailures?: boolean;
  /** Memory shared with the reading thread, which fills each slot with a piece of the file. */
  slots: SharedArrayBuffer[];
  /** Where each slot's result goes (RESULT_SLOT_BYTES each), when it fits. */
  results: SharedArrayBuffer[];
}

export interface ChunkJob {
  seq: number;
  /** The input's name, for locations (`captures.jsonl:12`). */
  name: string;
  /** 1-based number of the first line in `bytes`. */
  firstLine: number;
  /**
   * Whole lines, each ending with a newline but perhaps the file's last: bytes
   * [start, end) of shared slot `slot`, or (a line longer than a slot) `bytes`.
   */
  slot: number;
  start: number;
  end: number;
  bytes?: Uint8Array<ArrayBuffer>;
}

/**
 * What a piece gave. The arrays are views of the piece's shared result slot, or (when
 * they do not fit, or the piece had no slot) of buffers of their own, to transfer.
 */
export interface ChunkResult {
  seq: number;
  /** The verdicts as the reporter formats them (without repeats), UTF-8, in order. */
  report: Uint8Array;
  /** META_STRIDE numbers per verdict; see the META_ offsets. */
  meta: Int32Array;
  /** Each verdict's label (id, else location), UTF-8, back to back. */
  labels: Uint8Array;
  verdicts: number;
  counts: CheckCounts;
  /** With echoFailures: the failing verdicts as text lines, if any failed. */
  failures: Uint8Array | undefined;
}

/** What a worker posts once, when it has started and can take pieces. */
export const WORKER_READY = 'ready';

export const META_STRIDE = 8;
/** Offsets into one verdict's numbers. */
export const META_REPORT_END = 0;
export const META_LABEL_END = 1;
export const META_FLAGS = 2;
/** Index in EVENT_NAMES of a passing verdict's event (for --expect), else -1. */
export const META_EVENT = 3;
export const META_BYTES_HI = 4;
export const META_BYTES_LO = 5;
export const META_PAIR_HI = 6;
export const META_PAIR_LO = 7;
export const FLAG_OK = 1;
export const FLAG_HAS_BYTES = 2;
export const FLAG_HAS_PAIR = 4;
/** The capture is marked `redelivery: true`. */
export const FLAG_REDELIVERY = 8;

const NEWLINE = 0x0a;
/** A piece's text report is about a tenth of its megabyte; json and junit more. */
const REPORT_SINK_BYTES = 256 * 1024;
const LABEL_SINK_BYTES = 64 * 1024;
/** A result slot: report, labels, then the numbers of up to 8,192 verdicts. */
const RESULT_REPORT_BYTES = 512 * 1024;
const RESULT_LABEL_BYTES = 128 * 1024;
const RESULT_META_BYTES = 8192 * META_STRIDE * 4;
export const RESULT_SLOT_BYTES = RESULT_REPORT_BYTES + RESULT_LABEL_BYTES + RESULT_META_BYTES;
const EVENT_INDEX = new Map<string, number>(EVENT_NAMES.map((name, i) => [name, i]));

/** UTF-8 text appended to one growing Buffer. */
class ByteSink {
  bytes: Buffer;
  used = 0;
  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  write(text: string): number {
    const need = this.used + text.length * 3;
    if (need > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    this.used += this.bytes.write(text, this.used, 'utf8');
    return this.used;
  }

  /** The bytes written, copied into `region` if they fit, else into a buffer of their own. */
  take(region: Uint8Array | undefined): Uint8Array {
    const out = region && this.used <= region.length ? region.subarray(0, this.used) : new Uint8Array(this.used);
    out.set(this.bytes.subarray(0, this.used));
    return out;
  }
}

/**
 * Results go into shared memory, not into fresh buffers handed from thread to thread:
 * those were freed by another thread than the one that made them, and the allocator
 * kept the memory (RSS grew with the file).
 */
function resultRegions(result: SharedArrayBuffer | undefined): { report?: Uint8Array; labels?: Uint8Array; meta?: Int32Array } {
  if (!result) return {};
  return {
    report: new Uint8Array(result, 0, RESULT_REPORT_BYTES),
    labels: new Uint8Array(result, RESULT_REPORT_BYTES, RESULT_LABEL_BYTES),
    meta: new Int32Array(result, RESULT_REPORT_BYTES + RESULT_LABEL_BYTES, RESULT_META_BYTES / 4),
  };
}

/**
 * The verdicts of one piece as they are gathered: report and label bytes, and numbers.
 * Kept from piece to piece (only what is taken is copied): less memory churn. Each line
 * is checked by line(), a method of its own and not the body of the piece's loop: V8
 * compiled that loop twice per thread (on-stack replacement while the first piece ran,
 * then the whole function), with all the per-line work inlined both times.
 */
class PieceVerdicts {
  readonly report = new ByteSink(REPORT_SINK_BYTES);
  readonly labels = new ByteSink(LABEL_SINK_BYTES);
  // Small at first so it grows in the first piece, while V8 still gathers feedback: its
  // first growth in optimized code (a piece of over 1,024 records) cost a recompile.
  meta = new Int32Array(META_STRIDE * 64);
  verdicts = 0;
  counts: CheckCounts = { skipped: 0, filteredOut: 0, agedByReceipt: 0, notAged: 0 };
  /** Failing verdicts as text lines, when the run says them on the console too. */
  readonly failures = new ByteSink(0);

  constructor(
    private readonly ctx: CheckContext,
    private readonly reporter: Reporter,
    private readonly echo: Reporter | undefined,
  ) {}

  start(): void {
    this.report.used = 0;
    this.labels.used = 0;
    this.failures.used = 0;
    this.verdicts = 0;
    this.counts = { skipped: 0, filteredOut: 0, agedByReceipt: 0, notAged: 0 };
  }

  line(text: string, location: string): void {
    const checked = checkCounted(captureLineToItem(text, location), this.ctx, this.counts);
    if (!checked) return;
    const { verdict, keys } = checked;
    let { meta } = this;
    if ((this.verdicts + 1) * META_STRIDE > meta.length) {
      const bigger = new Int32Array(meta.length * 2);
      bigger.set(meta);
      meta = this.meta = bigger;
    }
    const at = this.verdicts++ * META_STRIDE;
    meta[at + META_REPORT_END] = this.report.write(this.reporter.verdict(verdict));
    if (!verdict.ok && this.echo) this.failures.write(this.echo.verdict(verdict));
    meta[at + META_LABEL_END] = this.labels.write(verdict.id ?? verdict.location);
    meta[at + META_FLAGS] =
      (verdict.ok ? FLAG_OK : 0) |
      (keys.hasBytes ? FLAG_HAS_BYTES : 0) |
      (keys.hasPair ? FLAG_HAS_PAIR : 0) |
      (verdict.redelivery ? FLAG_REDELIVERY : 0);
    meta[at + META_EVENT] = verdict.ok && verdict.event !== undefined ? (EVENT_INDEX.get(verdict.event) ?? -1) : -1;
    meta[at + META_BYTES_HI] = keys.bytesHi;
    meta[at + META_BYTES_LO] = keys.bytesLo;
    meta[at + META_PAIR_HI] = keys.pairHi;
    meta[at + META_PAIR_LO] = keys.pairLo;
  }
}

/** A checker for jobs, with the secrets prepared and the reporter built once. */
export function chunkChecker(setup: ChunkSetup): (job: ChunkJob) => ChunkResult {
  const ctx: CheckContext = {
    secrets: new PreparedSecrets(setup.secrets),
    maxAgeMs: setup.maxAgeMs,
    nowMs: setup.nowMs,
    event: setup.event,
    ignoreAppStatus: setup.ignoreAppStatus,
  };
  const piece = new PieceVerdicts(
    ctx,
    reporterFromSpec(setup.reporter),
    setup.echoFailures ? reporterFromSpec({ name: 'text', secretCount: 1 }) : undefined,
  );
  const regions = setup.results.map(resultRegions);
  return (job) => {
    const input = job.bytes
      ? Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength)
      : Buffer.from(setup.slots[job.slot] as SharedArrayBuffer, job.start, job.end - job.start);
    piece.start();
    let line = job.firstLine;
    for (let start = 0; start < input.length; line++) {
      let end = input.indexOf(NEWLINE, start);
      if (end === -1) end = input.length;
      const text = input.toString('utf8', start, end);
      start = end + 1;
      if (!isBlankLine(text)) piece.line(text, `${job.name}:${line}`);
    }
    const { verdicts, counts, meta, report, labels } = piece;
    const region = job.bytes ? {} : (regions[job.slot] ?? {});
    const numbers = verdicts * META_STRIDE;
    const metaOut = region.meta && numbers <= region.meta.length ? region.meta.subarray(0, numbers) : new Int32Array(numbers);
    metaOut.set(meta.subarray(0, numbers));
    const failures = piece.failures.used > 0 ? piece.failures.take(undefined) : undefined;
    return {
      seq: job.seq,
      report: report.take(region.report),
      meta: metaOut,
      labels: labels.take(region.labels),
      verdicts,
      counts,
      failures,
    };
  };
}
