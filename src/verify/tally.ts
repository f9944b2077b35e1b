import { EVENT_NAMES } from '../events/catalog.js';
import type { Checked, CheckCounts } from './checks.js';
import {
  FLAG_HAS_BYTES,
  FLAG_HAS_PAIR,
  FLAG_OK,
  FLAG_REDELIVERY,
  META_BYTES_HI,
  META_BYTES_LO,
  META_EVENT,
  META_FLAGS,
  META_LABEL_END,
  META_PAIR_HI,
  META_PAIR_LO,
  META_REPORT_END,
  META_STRIDE,
  type ChunkResult,
} from './chunk.js';
import { DuplicateTracker, EXACT_KEY, PAIR_KEY, type RepeatKeys } from './duplicates.js';
import { ExpectationTally, type Expectation } from './expectations.js';
import type { FailureEcho } from './failure-echo.js';
import { ReportBytes } from './report-bytes.js';
import type { Reporter } from './reporters/reporter.js';
import type { VerifySummary } from './types.js';

/**
 * Repeat keys rewritten for every verdict of a worker's piece. A class, not an object
 * literal: a literal of the same keys shares its hidden class with the keys checkItem
 * makes, and rewriting them here made V8 drop checkItem's optimized code.
 */
class ScratchKeys implements RepeatKeys {
  hasBytes = false;
  bytesHi = 0;
  bytesLo = 0;
  hasPair = false;
  pairHi = 0;
  pairLo = 0;
}

/**
 * A copy of bytes in shared memory. Not Buffer.from(bytes): from a SharedArrayBuffer it
 * copied ~10x slower than set() does (0.13 ms for a piece's 100 KB report).
 */
function copyOf(bytes: Uint8Array): Buffer {
  const copy = Buffer.allocUnsafe(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * Everything a run adds up, in input order: counts, repeats, expectations, and the
 * report as it is written. Verdicts come one by one (checked on this thread) or as a
 * worker's formatted piece (checked elsewhere); both end in the same report.
 */
export class RunTally {
  readonly counts: CheckCounts & { passed: number; failed: number } = {
    passed: 0,
    failed: 0,
    skipped: 0,
    filteredOut: 0,
    agedByReceipt: 0,
    notAged: 0,
  };
  private readonly duplicates: DuplicateTracker;
  private readonly expectations: ExpectationTally;
  private readonly report = new ReportBytes();
  /** Reused for every verdict of a piece: no object per request. */
  private readonly keys: RepeatKeys = new ScratchKeys();

  constructor(
    private readonly reporter: Reporter,
    private readonly write: (text: string | Buffer) => Promise<void> | void,
    expect: readonly Expectation[],
    /** About how many requests the run will see (sizes the repeat tables once). */
    expectedRequests = 0,
    /** Where failing requests are said again (the console, when the report goes to a file). */
    private readonly echo?: FailureEcho,
  ) {
    this.expectations = new ExpectationTally(expect);
    this.duplicates = new DuplicateTracker(expectedRequests);
  }

  /** One verdict checked here: marked with its repeat, formatted, written in batches. */
  async add({ verdict, keys }: Checked): Promise<void> {
    // Said before its repeat is known, as a worker's piece says it: the same lines either way.
    if (!verdict.ok) this.echo?.verdict(verdict);
    const repeat = this.duplicates.observe(keys, verdict.id ?? verdict.location);
    if (repeat?.exactDuplicateOf !== undefined) verdict.exactDuplicateOf = repeat.exactDuplicateOf;
    else if (repeat?.samePairAs !== undefined) verdict.samePairAs = repeat.samePairAs;
    if (verdict.redelivery) this.duplicates.noteMarkedRedelivery();
    this.count(verdict.ok, verdict.ok ? verdict.event : undefined, verdict.exactDuplicateOf !== undefined);
    const full = this.report.add(this.reporter.verdict(verdict));
    if (full) await this.emit(full);
  }

  /** Writes what add() has gathered. */
  async flush(): Promise<void> {
    const batch = this.report.take();
    if (batch) await this.emit(batch);
  }

  /** A worker's piece: repeats decided here, their notes put into its formatted text. */
  async addChunk(result: ChunkResult): Promise<void> {
    const { meta, verdicts, counts } = result;
    if (result.failures !== undefined) this.echo?.lines(result.failures);
    this.counts.skipped += counts.skipped;
    this.counts.filteredOut += counts.filteredOut;
    this.counts.agedByReceipt += counts.agedByReceipt;
    this.counts.notAged += counts.notAged;
    const report = Buffer.from(result.report.buffer, result.report.byteOffset, result.report.byteLength);
    const labels = Buffer.from(result.labels.buffer, result.labels.byteOffset, result.labels.byteLength);
    const { keys } = this;
    const parts: Buffer[] = [];
    let copiedTo = 0;
    let reportStart = 0;
    let labelStart = 0;
    for (let i = 0; i < verdicts; i++) {
      const at = i * META_STRIDE;
      const flags = meta[at + META_FLAGS] as number;
      const reportEnd = meta[at + META_REPORT_END] as number;
      const labelEnd = meta[at + META_LABEL_END] as number;
      keys.hasBytes = (flags & FLAG_HAS_BYTES) !== 0;
      keys.bytesHi = meta[at + META_BYTES_HI] as number;
      keys.bytesLo = meta[at + META_BYTES_LO] as number;
      keys.hasPair = (flags & FLAG_HAS_PAIR) !== 0;
      keys.pairHi = meta[at + META_PAIR_HI] as number;
      keys.pairLo = meta[at + META_PAIR_LO] as number;
      const repeat = this.duplicates.observeEncoded(keys, labels, labelStart, labelEnd);
      if ((flags & FLAG_REDELIVERY) !== 0) this.duplicates.noteMarkedRedelivery();
      const event = meta[at + META_EVENT] as number;
      this.count((flags & FLAG_OK) !== 0, event === -1 ? undefined : EVENT_NAMES[event], repeat?.exactDuplicateOf !== undefined);
      if (repeat) {
        parts.push(
          report.subarray(copiedTo, reportStart),
          Buffer.from(this.reporter.withRepeat(report.toString('utf8', reportStart, reportEnd), repeat)),
        );
        copiedTo = reportEnd;
      }
      reportStart = reportEnd;
      labelStart = labelEnd;
    }
    // Copied out of shared memory: the slot is refilled while a stream may still hold it.
    await this.emit(parts.length === 0 ? copyOf(report) : Buffer.concat([...parts, report.subarray(copiedTo)]));
  }

  summary(secretCount: number, inputs: string[]): VerifySummary {
    const { counts, duplicates } = this;
    const expectations = this.expectations.results();
    const unmet = expectations.filter((e) => !e.ok).length;
    return {
      passed: counts.passed + expectations.length - unmet,
      failed: counts.failed + unmet,
      requests: { passed: counts.passed, failed: counts.failed },
      skipped: counts.skipped,
      filteredOut: counts.filteredOut,
      agedByReceipt: counts.agedByReceipt,
      notAged: counts.notAged,
      exactDuplicates: duplicates.exactDuplicates,
      markedRedeliveries: duplicates.markedRedeliveries,
      repeatedPairs: duplicates.repeatedPairs,
      expectations,
      duplicateKeys: { exact: EXACT_KEY, pair: PAIR_KEY },
      secretCount,
      inputs,
    };
  }

  /** Exact duplicates count once toward --expect. */
  private count(ok: boolean, event: string | undefined, exactDuplicate: boolean): void {
    if (!ok) {
      this.counts.failed++;
      return;
    }
    this.counts.passed++;
    if (!exactDuplicate && event !== undefined) this.expectations.count(event);
  }

  private async emit(formatted: Buffer): Promise<void> {
    const out = this.reporter.emit(formatted);
    if (out !== undefined && out.length > 0) await this.write(out);
  }
}
