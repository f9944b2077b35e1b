import type { Verdict, VerifySummary } from '../types.js';
import { xmlEscape } from '../../util/xml-escape.js';
import { repeatNotes, summaryLines, verdictNotes, type Reporter } from './reporter.js';

const CASE_END = '    </testcase>\n';

/**
 * A testcase's name: the event and where it is in the input (`MessageSent
 * (.fe-webhooks/captures.jsonl:3)`), never the capture id, which is new on every run:
 * CI test history (GitLab, Jenkins, GitHub's reporters) then follows one test from run
 * to run instead of seeing all new tests each time. The id is in a failure's text.
 */
function stableName(verdict: Verdict): string {
  return `${verdict.event ?? '?'} (${verdict.location})`;
}
const SELF_CLOSED = '/>\n';

function systemOut(notes: string): string {
  return `      <system-out>${xmlEscape(notes)}</system-out>\n`;
}

function testcase(classname: string, name: string, failure?: { type: string; message: string; detail: string }, out?: string): string {
  let xml = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(name)}"`;
  if (!failure && !out) return `${xml}/>\n`;
  xml += '>\n';
  if (failure) {
    xml += `      <failure type="${xmlEscape(failure.type)}" ` +
      `message="${xmlEscape(failure.message)}">${xmlEscape(failure.detail)}</failure>\n`;
  }
  if (out) xml += systemOut(out);
  return `${xml}${CASE_END}`;
}

/**
 * JUnit XML as Jenkins, GitLab and GitHub test reporters read it: one testcase per
 * request (failures carry every reason), and one per --expect. Testcases are held
 * (as UTF-8 bytes) until the end because the totals go in the opening tags.
 */
export function junitReporter(): Reporter {
  const cases: Buffer[] = [];
  return {
    start: () => '',
    verdict(verdict: Verdict): string {
      const notes = verdictNotes(verdict).join('\n');
      const failure = verdict.ok
        ? undefined
        : {
            type: verdict.reasons[0]?.code ?? 'failed',
            message: verdict.reasons.map((r) => r.message).join('; '),
            detail: verdict.reasons.map((r) => `${r.code}: ${r.message}`).join('\n') + (verdict.id ? `\ncapture ${verdict.id}` : ''),
          };
      return testcase(`fe-webhooks.verify.${verdict.event ?? 'unreadable'}`, stableName(verdict), failure, notes || undefined);
    },
    // Without notes a testcase is self-closed, or ends with its failure; the notes go last.
    withRepeat(text, repeat) {
      const out = systemOut(repeatNotes(repeat).join('\n'));
      if (text.endsWith(SELF_CLOSED)) return `${text.slice(0, -SELF_CLOSED.length)}>\n${out}${CASE_END}`;
      return `${text.slice(0, -CASE_END.length)}${out}${CASE_END}`;
    },
    emit(formatted) {
      cases.push(formatted);
      return undefined;
    },
    finish(summary: VerifySummary): Buffer {
      const requests = summary.requests.passed + summary.requests.failed;
      const requestFailures = summary.requests.failed;
      const expectationCases = summary.expectations.map((e) =>
        testcase(
          'fe-webhooks.verify.expect',
          `at least ${e.min} valid ${e.event}`,
          e.ok
            ? undefined
            : { type: 'expectation', message: `saw ${e.seen}`, detail: `expected at least ${e.min} valid ${e.event}, saw ${e.seen}` },
        ),
      );
      const expectFailures = summary.expectations.filter((e) => !e.ok).length;
      const properties = summaryLines(summary)
        .map((line, i) => `      <property name="note${i + 1}" value="${xmlEscape(line)}"/>\n`)
        .join('');
      const head =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<testsuites name="fe-webhooks verify" tests="${requests + summary.expectations.length}" ` +
        `failures="${requestFailures + expectFailures}">\n` +
        `  <testsuite name="requests" tests="${requests}" failures="${requestFailures}" errors="0" skipped="0">\n` +
        (properties ? `    <properties>\n${properties}    </properties>\n` : '');
      const tail =
        '  </testsuite>\n' +
        `  <testsuite name="expectations" tests="${summary.expectations.length}" failures="${expectFailures}" errors="0" skipped="0">\n` +
        expectationCases.join('') +
        '  </testsuite>\n' +
        '</testsuites>\n';
      return Buffer.concat([Buffer.from(head), ...cases, Buffer.from(tail)]);
    },
    spec: { name: 'junit', secretCount: 0 },
  };
}
