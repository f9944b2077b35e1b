import { xmlEscape } from '../verify/reporters/junit.js';
import type { CaseResult } from './drill.js';

export interface DrillSummary {
  url: string;
  passed: number;
  failed: number;
}

export function summarize(url: string, results: readonly CaseResult[]): DrillSummary {
  const passed = results.filter((r) => r.ok).length;
  return { url, passed, failed: results.length - passed };
}

/** `{"url", "cases": [...], "summary": {"passed", "failed"}}`. */
export function drillJson(summary: DrillSummary, results: readonly CaseResult[]): string {
  const cases = results.map((r) => ({ ...r, latencyMs: Math.round(r.latencyMs * 10) / 10 }));
  return `${JSON.stringify({ url: summary.url, cases, summary: { passed: summary.passed, failed: summary.failed } })}\n`;
}

/** JUnit XML: one testcase per case, failures carry the reason. */
export function drillJunit(summary: DrillSummary, results: readonly CaseResult[]): string {
  const cases = results.map((r) => {
    const open = `    <testcase classname="fe-webhooks.check" name="${xmlEscape(r.name)}" time="${(r.latencyMs / 1000).toFixed(3)}"`;
    if (r.ok) return `${open}/>\n`;
    const message = `expected ${r.expected}: ${r.reason ?? 'failed'}`;
    return `${open}>\n      <failure type="conformance" message="${xmlEscape(message)}">${xmlEscape(message)}</failure>\n    </testcase>\n`;
  });
  const total = results.length;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="fe-webhooks check" tests="${total}" failures="${summary.failed}">\n` +
    `  <testsuite name="${xmlEscape(summary.url)}" tests="${total}" failures="${summary.failed}" errors="0" skipped="0">\n` +
    cases.join('') +
    '  </testsuite>\n</testsuites>\n'
  );
}
