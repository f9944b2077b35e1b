import type { Verdict, VerifySummary } from '../types.js';
import type { Reporter } from './reporter.js';

const SEPARATOR = ',';

/**
 * One JSON document: `{"inputs", "verdicts": [...], "expectations", "summary"}`, written
 * as it goes (one verdict per line inside the array) so a huge run stays flat in memory.
 * Every verdict is formatted with its leading comma (formatting keeps no count, so
 * workers can do it); emit drops the first one.
 */
export function jsonReporter(): Reporter {
  let first = true;
  return {
    start: (inputs) => `{"inputs":${JSON.stringify(inputs)},"verdicts":[`,
    verdict: (verdict: Verdict) => `${SEPARATOR}\n${JSON.stringify(verdict)}`,
    // Repeats are the verdict's last keys (they are set after every check).
    withRepeat(text, repeat) {
      const key = repeat.exactDuplicateOf !== undefined ? 'exactDuplicateOf' : 'samePairAs';
      return `${text.slice(0, -1)},"${key}":${JSON.stringify(repeat.exactDuplicateOf ?? repeat.samePairAs)}}`;
    },
    emit(formatted) {
      if (!first || formatted.length === 0) return formatted;
      first = false;
      return formatted.subarray(SEPARATOR.length);
    },
    finish(summary: VerifySummary): string {
      const { expectations, inputs: _inputs, ...rest } = summary;
      return `\n],"expectations":${JSON.stringify(expectations)},"summary":${JSON.stringify(rest)}}\n`;
    },
    spec: { name: 'json', secretCount: 0 },
  };
}
