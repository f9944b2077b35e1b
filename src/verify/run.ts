import { PreparedSecrets } from '../signing/index.js';
import { checkItem, type CheckContext } from './checks.js';
import { DuplicateTracker, EXACT_KEY, PAIR_KEY } from './duplicates.js';
import { ExpectationTally, type Expectation } from './expectations.js';
import { openInput, type InputSpec, type OpenedInput } from './inputs.js';
import { ReportBytes } from './report-bytes.js';
import type { Reporter } from './reporters/reporter.js';
import { isUnreadable, type VerifySummary } from './types.js';

export interface VerifyOptions {
  inputs: readonly InputSpec[];
  /** Every secret to try, in order (rotation); at least one. */
  secrets: readonly string[];
  /** Canonical event name: only this event is checked. */
  event?: string;
  expect?: readonly Expectation[];
  maxAgeMs?: number;
  now?: () => number;
  cwd: string;
  reporter: Reporter;
  /** Where the report goes (UTF-8 bytes, whole lines); awaited, so a slow pipe holds reading back. */
  write(text: string | Buffer): Promise<void> | void;
}

/**
 * Verifies every request of every input and writes the report as it goes. All inputs
 * are opened (and their format detected) before the first verdict, so a bad path is an
 * input error, not a report cut in half.
 */
export async function verifyRequests(options: VerifyOptions): Promise<VerifySummary> {
  const opened: OpenedInput[] = [];
  for (const spec of options.inputs) opened.push(await openInput(spec, options.cwd));
  const ctx: CheckContext = {
    secrets: new PreparedSecrets(options.secrets),
    maxAgeMs: options.maxAgeMs,
    nowMs: (options.now ?? Date.now)(),
    event: options.event,
  };
  const duplicates = new DuplicateTracker();
  const tally = new ExpectationTally(options.expect ?? []);
  const counts = { passed: 0, failed: 0, skipped: 0, filteredOut: 0, agedByReceipt: 0, notAged: 0 };
  const { reporter } = options;
  const report = new ReportBytes();
  await options.write(reporter.start(opened.map((input) => input.name)));
  for (const input of opened) {
    for await (const items of input.items) {
      for (const item of items) {
        if (!isUnreadable(item) && item.method !== undefined && item.method !== 'POST') {
          counts.skipped++;
          continue;
        }
        const checked = checkItem(item, ctx);
        if (!checked) {
          counts.filteredOut++;
          continue;
        }
        const { verdict } = checked;
        if (verdict.ageSource === 'receivedAt') counts.agedByReceipt++;
        else if (verdict.ageSource === 'none') counts.notAged++;
        const exact = duplicates.observe(verdict, checked.fingerprint);
        if (verdict.ok) {
          counts.passed++;
          if (!exact && verdict.event !== undefined) tally.count(verdict.event);
        } else counts.failed++;
        const full = report.add(reporter.verdict(verdict));
        if (full) await options.write(full);
      }
      const batch = report.take();
      if (batch) await options.write(batch);
    }
  }
  const expectations = tally.results();
  const unmet = expectations.filter((e) => !e.ok).length;
  const summary: VerifySummary = {
    passed: counts.passed + expectations.length - unmet,
    failed: counts.failed + unmet,
    requests: { passed: counts.passed, failed: counts.failed },
    skipped: counts.skipped,
    filteredOut: counts.filteredOut,
    agedByReceipt: counts.agedByReceipt,
    notAged: counts.notAged,
    exactDuplicates: duplicates.exactDuplicates,
    repeatedPairs: duplicates.repeatedPairs,
    expectations,
    duplicateKeys: { exact: EXACT_KEY, pair: PAIR_KEY },
    secretCount: options.secrets.length,
    inputs: opened.map((input) => input.name),
  };
  await options.write(reporter.finish(summary));
  return summary;
}
