import { jsonReporter } from './json.js';
import { junitReporter } from './junit.js';
import type { Reporter, ReporterSpec } from './reporter.js';
import { textReporter } from './text.js';

/** The uncoloured reporter a spec describes (worker threads build theirs from one). */
export function reporterFromSpec(spec: ReporterSpec): Reporter {
  if (spec.name === 'json') return jsonReporter();
  if (spec.name === 'junit') return junitReporter();
  return textReporter(spec.secretCount);
}
