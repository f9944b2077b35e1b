import { xmlEscape } from '../util/xml-escape.js';
import type { CaseResult } from './drill.js';

export interface DrillSummary {
  url: string;
  passed: number;
  failed: number;
  /** Why nothing could be checked (the endpoint could not be reached), if so. */
  unreachable?: string;
}

export function summarize(url: string, results: readonly CaseResult[], unreachable?: string): DrillSummary {
  const passed = results.filter((r) => r.ok).length;
  return { url, passed, failed: results.length - passed, ...(unreachable !== undefined ? { unreachable } : {}) };
}

/** `{"url", ["unreachable",] "cases": [...], "summary": {"passed", "failed"}}`. */
export function drillJson(summary: DrillSummary, results: readonly CaseResult[]): string {
  const cases = results.map((r) => ({ ...r, latencyMs: Math.round(r.latencyMs * 10) / 10 }));
  const unreachable = summary.unreachable !== undefined ? { unreachable: summary.unreachable } : {};
  return `${JSON.stringify({ url: summary.url, ...unreachable, cases, summary: { passed: summary.passed, failed: summary.failed } })}\n`;
}

/** JUnit XML: one testcase per case, failures carry the reason. */
export function drillJunit(summary: DrillSummary, results: readonly CaseResult[]): string {
  const cases = results.map((r) => {
    const open = `    <testcase classname="fe-webhooks.check" name="${xmlEscape(r.name)}" time="${(r.latencyMs / 1000).toFixed(3)}"`;
    if (r.ok) return `${open}/>\n`;
    const message = `expected ${r.expected}: ${r.reason ?? 'failed'}`;
    return `${open}>\n      <failure type="conformance" message="${xmlEscape(message)}">${xmlEscape(message)}</failure>\n    </testcase>\n`;
  });
  if (summary.unreachable !== undefined) {
    // One failed testcase, so that CI shows why nothing else ran.
    const message = `cannot reach the endpoint: ${summary.unreachable}`;
    cases.push(
      `    <testcase classname="fe-webhooks.check" name="the endpoint can be reached" time="0">\n` +
        `      <failure type="unreachable" message="${xmlEscape(message)}">${xmlEscape(message)}</failure>\n    </testcase>\n`,
    );
  }
  const total = cases.length;
  const failures = summary.failed + (summary.unreachable !== undefined ? 1 : 0);
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="fe-webhooks check" tests="${total}" failures="${failures}">\n` +
    `  <testsuite name="${xmlEscape(summary.url)}" tests="${total}" failures="${failures}" errors="0" skipped="0">\n` +
    cases.join('') +
    '  </testsuite>\n</testsuites>\n'
  );
}
