import type { Repeat } from '../duplicates.js';
import type { Verdict, VerifySummary } from '../types.js';

/** What a worker thread needs to build the same verdict formatting (no functions). */
export interface ReporterSpec {
  name: 'text' | 'json' | 'junit';
  secretCount: number;
}

/**
 * A report format. verdict() is pure (no state), so worker threads can format verdicts
 * too; emit() gets the formatted bytes in input order and says what to write now, so
 * text and json stream as verdicts come (memory stays flat) while junit holds its
 * testcases until the totals are known, because XML puts them in the opening tag.
 */
export interface Reporter {
  start(inputs: readonly string[]): string;
  /** One verdict's text, repeat notes included when the verdict carries them. */
  verdict(verdict: Verdict): string;
  /**
   * verdict()'s text for a verdict that turned out to be a repeat, from its text without
   * the repeat (formatted before repeats were known, in a worker). Verdicts from checks
   * carry no other notes, which is what makes the place of the note certain.
   */
  withRepeat(text: string, repeat: Repeat): string;
  /** What to write for these formatted verdicts (one or many, whole), if anything. */
  emit(formatted: Buffer): Buffer | undefined;
  finish(summary: VerifySummary): string | Buffer;
  /** How to build the same formatting in a worker thread; absent when it cannot (colours). */
  spec?: ReporterSpec;
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
  return `${verdict.event ?? '?'}${id} (${verdict.location})${verdict.redelivery ? ' (redelivery)' : ''}`;
}

/** Remarks that do not fail a request: repeats and age notes. */
export function verdictNotes(verdict: Verdict): string[] {
  // The usual case (no repeat) allocates nothing: called once per request.
  if (verdict.exactDuplicateOf === undefined && verdict.samePairAs === undefined) return verdict.notes;
  return [...repeatNotes(verdict), ...verdict.notes];
}

export function repeatNotes(repeat: Repeat): string[] {
  const notes: string[] = [];
  if (repeat.exactDuplicateOf) notes.push(`exact duplicate of ${repeat.exactDuplicateOf} (same bytes: a redelivery)`);
  if (repeat.samePairAs) {
    notes.push(`same event + message_id as ${repeat.samePairAs} but different bytes: a separate event, not a redelivery`);
  }
  return notes;
}

export function summaryLines(summary: VerifySummary): string[] {
  const lines: string[] = [];
  if (summary.skipped > 0) lines.push(`skipped ${summary.skipped} non-POST request${summary.skipped === 1 ? '' : 's'}`);
  if (summary.filteredOut > 0)
    lines.push(`left out ${summary.filteredOut} request${summary.filteredOut === 1 ? '' : 's'} of other events (--event)`);
  if (summary.agedByReceipt > 0) {
    lines.push(
      `--max-age: ${summary.agedByReceipt} request(s) aged by receipt time (bounces, clicks and send-limit events carry no timestamp)`,
    );
  }
  if (summary.notAged > 0) lines.push(`--max-age: ${summary.notAged} request(s) not aged (no timestamp in the payload or the capture)`);
  if (summary.exactDuplicates > 0 || summary.repeatedPairs > 0 || summary.markedRedeliveries > 0) {
    lines.push(
      `duplicates: ${summary.exactDuplicates} exact (keyed by ${summary.duplicateKeys.exact}); ` +
        `${summary.repeatedPairs} repeated ${summary.duplicateKeys.pair} with different bytes (separate events); ` +
        `${summary.markedRedeliveries} marked redelivery by the relay (the first delivery may have no capture)`,
    );
  }
  return lines;
}
