import type { Verdict, VerifySummary } from '../types.js';

/**
 * A report format. Each call returns the text to write at that point, so text and
 * json stream as verdicts come (memory stays flat); junit must hold its testcases
 * until the totals are known, because XML puts them in the opening tag.
 */
export interface Reporter {
  start(inputs: readonly string[]): string;
  verdict(verdict: Verdict): string;
  finish(summary: VerifySummary): string;
}

/** Colour hooks for the text report; identity when writing to a file or a pipe. */
export interface Paint {
  pass(text: string): string;
  fail(text: string): string;
  dim(text: string): string;
}

export const NO_PAINT: Paint = { pass: (t) => t, fail: (t) => t, dim: (t) => t };

/** `MessageSent req_x (captures.jsonl:3)`: what a verdict is about, in every format. */
export function verdictTitle(verdict: Verdict): string {
  const id = verdict.id ? ` ${verdict.id}` : '';
  return `${verdict.event ?? '?'}${id} (${verdict.location})`;
}

/** Remarks that do not fail a request: repeats and age notes. */
export function verdictNotes(verdict: Verdict): string[] {
  // The usual case (no repeat) allocates nothing: called once per request.
  if (verdict.exactDuplicateOf === undefined && verdict.samePairAs === undefined) return verdict.notes;
  const notes: string[] = [];
  if (verdict.exactDuplicateOf) notes.push(`exact duplicate of ${verdict.exactDuplicateOf} (same bytes: a redelivery)`);
  if (verdict.samePairAs) {
    notes.push(`same event + message_id as ${verdict.samePairAs} but different bytes: a separate event, not a redelivery`);
  }
  return [...notes, ...verdict.notes];
}

export function summaryLines(summary: VerifySummary): string[] {
  const lines: string[] = [];
  if (summary.skipped > 0) lines.push(`skipped ${summary.skipped} non-POST request${summary.skipped === 1 ? '' : 's'}`);
  if (summary.filteredOut > 0) lines.push(`left out ${summary.filteredOut} request${summary.filteredOut === 1 ? '' : 's'} of other events (--event)`);
  if (summary.agedByReceipt > 0) {
    lines.push(`--max-age: ${summary.agedByReceipt} request(s) aged by receipt time (bounces, clicks and send-limit events carry no timestamp)`);
  }
  if (summary.notAged > 0) lines.push(`--max-age: ${summary.notAged} request(s) not aged (no timestamp in the payload or the capture)`);
  if (summary.exactDuplicates > 0 || summary.repeatedPairs > 0) {
    lines.push(
      `duplicates: ${summary.exactDuplicates} exact (keyed by ${summary.duplicateKeys.exact}); ` +
        `${summary.repeatedPairs} repeated ${summary.duplicateKeys.pair} with different bytes (separate events)`,
    );
  }
  return lines;
}
