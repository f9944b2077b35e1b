import { printableSnippet } from '../../util/printable.js';
import type { Verdict, VerifySummary } from '../types.js';
import { NO_PAINT, repeatNotes, summaryLines, verdictNotes, verdictTitle, type Paint, type Reporter } from './reporter.js';

const NOTES_SEPARATOR = ' — ';
/** Bounds per piece of a report line: the json report carries the whole text. */
const TITLE_MAX_CHARS = 300;
const REASON_MAX_CHARS = 300;

function shownNote(note: string): string {
  return printableSnippet(note, REASON_MAX_CHARS);
}

/** One line per request, then expectations, then exactly `N passed, N failed`. */
export function textReporter(secretCount: number, paint: Paint = NO_PAINT): Reporter {
  return {
    start: () => '',
    verdict(verdict: Verdict): string {
      // The event, id, reasons and notes quote the capture (a sender's bytes): each is
      // escaped to one printable line, after our ✓/✗, so none can start a line of its own.
      let line = `${verdict.ok ? paint.pass('✓') : paint.fail('✗')} ${printableSnippet(verdictTitle(verdict), TITLE_MAX_CHARS)}`;
      if (verdict.ok && secretCount > 1 && verdict.secretIndex !== undefined) {
        line += ` signed with secret #${verdict.secretIndex + 1}`;
      }
      if (!verdict.ok) line += `: ${verdict.reasons.map((r) => printableSnippet(r.message, REASON_MAX_CHARS)).join('; ')}`;
      const notes = verdictNotes(verdict);
      if (notes.length > 0) line += paint.dim(`${NOTES_SEPARATOR}${notes.map(shownNote).join('; ')}`);
      return `${line}\n`;
    },
    // The line ends with its notes: the repeat's note goes just before the newline.
    withRepeat: (text, repeat) =>
      `${text.slice(0, -1)}${paint.dim(`${NOTES_SEPARATOR}${repeatNotes(repeat).map(shownNote).join('; ')}`)}\n`,
    emit: (formatted) => formatted,
    finish(summary: VerifySummary): string {
      const lines = summaryLines(summary).map((line) => paint.dim(line));
      for (const e of summary.expectations) {
        const mark = e.ok ? paint.pass('✓') : paint.fail('✗');
        lines.push(`${mark} expected at least ${e.min} valid ${printableSnippet(e.event)}: saw ${e.seen}`);
      }
      lines.push(`${summary.passed} passed, ${summary.failed} failed`);
      return `${lines.join('\n')}\n`;
    },
    spec: paint === NO_PAINT ? { name: 'text', secretCount } : undefined,
  };
}
