import { encodeBody } from '../../capture/record.js';
import { forgedRequests, FORGERY_LABELS } from '../../delivery/forgery.js';
import { headerFields, signedHeaders, type OutgoingHeaders } from '../../delivery/request.js';
import { curlCommand } from '../../util/curl-command.js';
import { printableLine, printableSnippet } from '../../util/printable.js';
import { colors } from '../colors.js';
import { printLine, type CliIO } from '../io.js';
import type { PlannedBody } from './bodies.js';
import type { SendPlan } from './plan.js';

interface PreviewRequest {
  label: string;
  body: Buffer;
  headers: OutgoingHeaders;
  /** The --body file, when the bytes came from one: curl reads it with @file rather than inlining. */
  file?: string;
}

/** A curl command that sends exactly this request, whatever bytes its body holds. */
export function dryRunCurl(plan: SendPlan, request: PreviewRequest): string {
  const flags = plan.insecure && plan.url.protocol === 'https:' ? ['-sS', '-k'] : ['-sS'];
  const fromFile = request.file !== undefined && request.file !== '-';
  return curlCommand({
    method: 'POST',
    url: plan.url.href,
    headers: headerFields(request.headers),
    body: fromFile ? { file: request.file as string } : request.body,
    flags,
  });
}

function previews(plan: SendPlan, bodies: PlannedBody[]): PreviewRequest[] {
  const signing = { userAgent: plan.userAgent, secret: plan.secret, extraHeaders: plan.headers };
  return bodies.flatMap((planned) => {
    const body = Buffer.from(planned.bytes);
    if (plan.mode !== 'forge') return [{ label: planned.label, body, headers: signedHeaders(body, signing), file: plan.body?.file }];
    return forgedRequests(body, signing).map((forged) => ({
      label: `${planned.label} (${FORGERY_LABELS[forged.case]})`,
      body: forged.body,
      headers: forged.headers,
      // The tampered bytes are not the file's any more.
      file: forged.case === 'tampered-body' ? undefined : plan.body?.file,
    }));
  });
}

/** For display only: escaped, never cut (the curl line carries the exact bytes). */
function shown(text: string | Uint8Array): string {
  return printableSnippet(text, Number.POSITIVE_INFINITY);
}

function bodyLines(body: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let at = body.indexOf(0x0a); at !== -1; at = body.indexOf(0x0a, start)) {
    lines.push(body.subarray(start, at));
    start = at + 1;
  }
  lines.push(body.subarray(start));
  return lines;
}

/** `--dry-run`: each request as it would go out, and a curl line that sends it. Nothing is sent. */
export function printDryRun(plan: SendPlan, bodies: PlannedBody[], io: CliIO): void {
  const chalk = colors(io);
  previews(plan, bodies).forEach((request, index) => {
    const curl = dryRunCurl(plan, request);
    if (plan.json) {
      const { label, headers } = request;
      // body + bodyEncoding as in a capture record: base64 when the bytes are not UTF-8.
      const { body, bodyEncoding } = encodeBody(request.body);
      printLine(io, JSON.stringify({ event: label, method: 'POST', url: plan.url.href, headers, body, bodyEncoding, curl }));
      return;
    }
    if (index > 0) printLine(io, '');
    printLine(io, chalk.dim(`# ${shown(request.label)}${plan.repeat > 1 ? ` (would be sent ${plan.repeat} times)` : ''}`));
    printLine(io, chalk.bold(`POST ${plan.url.href}`));
    for (const [name, value] of headerFields(request.headers)) printLine(io, `${chalk.cyan(name)}: ${shown(value)}`);
    printLine(io, '');
    // The body's own lines, each escaped (bytes that are not UTF-8 show as \xff, controls as
    // \x1b) and unable to start a CI command: a --body may be a sender's bytes.
    for (const line of bodyLines(request.body)) printLine(io, printableLine(line, Number.POSITIVE_INFINITY));
    printLine(io, '');
    printLine(io, curl);
  });
}
