import type { Verdict, VerifySummary } from '../types.js';
import type { Reporter } from './reporter.js';

/**
 * One JSON document: `{"inputs", "verdicts": [...], "expectations", "summary"}`, written
 * as it goes (one verdict per line inside the array) so a huge run stays flat in memory.
 */
export function jsonReporter(): Reporter {
  let count = 0;
  return {
    start: (inputs) => `{"inputs":${JSON.stringify(inputs)},"verdicts":[`,
    verdict(verdict: Verdict): string {
      return `${count++ === 0 ? '\n' : ',\n'}${JSON.stringify(verdict)}`;
    },
    finish(summary: VerifySummary): string {
      const { expectations, inputs: _inputs, ...rest } = summary;
      return `\n],"expectations":${JSON.stringify(expectations)},"summary":${JSON.stringify(rest)}}\n`;
    },
  };
}
