import { forgedRequests, FORGERY_LABELS } from '../../delivery/forgery.js';
import { headerFields, signedHeaders, type OutgoingHeaders } from '../../delivery/request.js';
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

/** POSIX shell single quoting: safe for any text without NUL. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A curl command that sends exactly this request. */
export function curlCommand(plan: SendPlan, request: PreviewRequest): string {
  const parts = ['curl', '-sS', '-X', 'POST', shellQuote(plan.url.href)];
  if (plan.insecure && plan.url.protocol === 'https:') parts.push('-k');
  for (const [name, value] of headerFields(request.headers)) parts.push('-H', shellQuote(`${name}: ${value}`));
  // --data-binary sends the bytes untouched (plain -d would strip newlines).
  const inline = request.file === undefined || request.file === '-';
  parts.push('--data-binary', inline ? shellQuote(request.body.toString('utf8')) : `@${shellQuote(request.file as string)}`);
  return parts.join(' ');
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

/** `--dry-run`: each request as it would go out, and a curl line that sends it. Nothing is sent. */
export function printDryRun(plan: SendPlan, bodies: PlannedBody[], io: CliIO): void {
  const chalk = colors(io);
  previews(plan, bodies).forEach((request, index) => {
    const curl = curlCommand(plan, request);
    if (plan.json) {
      const { label, headers } = request;
      printLine(io, JSON.stringify({ event: label, method: 'POST', url: plan.url.href, headers, body: request.body.toString('utf8'), curl }));
      return;
    }
    if (index > 0) printLine(io, '');
    printLine(io, chalk.dim(`# ${request.label}${plan.repeat > 1 ? ` (would be sent ${plan.repeat} times)` : ''}`));
    printLine(io, chalk.bold(`POST ${plan.url.href}`));
    for (const [name, value] of headerFields(request.headers)) printLine(io, `${chalk.cyan(name)}: ${value}`);
    printLine(io, '');
    printLine(io, request.body.toString('utf8'));
    printLine(io, '');
    printLine(io, curl);
  });
}
