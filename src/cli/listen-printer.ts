import type { CaptureRecord, SignatureVerdict } from '../capture/record.js';
import { printableSnippet } from '../util/printable.js';
import type { ChalkInstance } from 'chalk';
import { batchedLines } from './batched-lines.js';
import { colors } from './colors.js';
import { type CliIO } from './io.js';
import { formatDuration } from '../util/duration.js';

const VERDICT_TEXT: Record<SignatureVerdict, string> = {
  valid: '✓ valid',
  invalid: '✗ invalid',
  unsigned: '– unsigned',
  unchecked: '– unchecked',
};

/** Bounds for the sender's text on one request line (the inspector and --json have it whole). */
const PATH_MAX_CHARS = 300;
const EVENT_MAX_CHARS = 60;

/** The last ISO time stamp's second and its local clock time: a busy second prints many lines. */
let clockSecond = '';
let clockText = '';

function clock(iso: string): string {
  // `2026-12-07T01:02:03.456Z`: the first 19 characters name the second (other shapes are not cached).
  const cacheable = iso.length === 24 && iso.charCodeAt(19) === 0x2e;
  if (cacheable && iso.startsWith(clockSecond) && clockSecond !== '') return clockText;
  const text = new Date(iso).toTimeString().slice(0, 8);
  if (cacheable) {
    clockSecond = iso.slice(0, 19);
    clockText = text;
  }
  return text;
}

function ms(value: number): string {
  return formatDuration(value, { unit: 'ms', fineMs: true });
}

/** The machine-readable line for one request: what the pretty line says, no headers or body. */
export function requestJson(record: CaptureRecord): Record<string, unknown> {
  const line: Record<string, unknown> = {
    type: 'request',
    id: record.id,
    receivedAt: record.receivedAt,
    method: record.method,
    path: record.path,
    event: record.event ?? null,
    signature: record.signature,
    bodySize: record.bodySize,
    forward: record.forward ?? null,
    responseStatus: record.responseStatus ?? null,
  };
  // Added in this order when present, not spread: a spread is a runtime call per request.
  if (record.rejected) line.rejected = record.rejected;
  if (record.attempt !== undefined) line.attempt = record.attempt;
  if (record.nextAttemptAt !== undefined) line.nextAttemptAt = record.nextAttemptAt;
  if (record.failed) line.failed = true;
  if (record.redelivery) line.redelivery = true;
  return line;
}

/** A stored relay event on FrontEngine's retry schedule: which attempt, and what comes next. */
function attemptText(record: CaptureRecord): string {
  if (record.attempt === undefined) return '';
  if (record.failed) return `  attempt ${record.attempt}: FAILED, no retries left (fe-webhooks replay ${record.id})`;
  if (record.nextAttemptAt !== undefined) return `  attempt ${record.attempt}, next at ${clock(record.nextAttemptAt)}`;
  return `  attempt ${record.attempt}`;
}

/**
 * One line per request, after Stripe CLI's `-->`/`<--` lines:
 * `14:03:22  POST /hooks  MessageSent  ✓ valid  --> 200 in 3.1 ms`.
 */
export function requestLine(record: CaptureRecord, io: CliIO, c: ChalkInstance = colors(io)): string {
  const verdict = VERDICT_TEXT[record.signature];
  const verdictColored = record.signature === 'valid' ? c.green(verdict) : record.signature === 'invalid' ? c.red(verdict) : c.dim(verdict);
  const status = record.responseStatus ?? 0;
  const statusColored =
    status >= 200 && status < 300
      ? c.green(String(status))
      : status >= 300 && status < 400
        ? c.yellow(String(status))
        : c.red(String(status));
  let outcome: string;
  if (record.rejected) outcome = `<-- ${statusColored} ${printableSnippet(record.rejected)}`;
  else if (record.forward?.error)
    outcome = `--> ${statusColored} ${printableSnippet(record.forward.error)} (${ms(record.forward.latencyMs)})`;
  else if (record.forward) outcome = `--> ${statusColored} in ${ms(record.forward.latencyMs)}`;
  else outcome = `<-- ${statusColored}`;
  // Method, path and event are the sender's text: escaped, after our time stamp.
  const request = `${printableSnippet(record.method, 20)} ${printableSnippet(record.path, PATH_MAX_CHARS)}`;
  const event = record.event !== undefined ? printableSnippet(record.event, EVENT_MAX_CHARS) : '–';
  const attempt = attemptText(record);
  const redelivery = record.redelivery ? `  ${c.yellow('(redelivery)')}` : '';
  return `${c.dim(clock(record.receivedAt))}  ${request}  ${c.bold(event)}  ${verdictColored}  ` +
    `${outcome}${record.failed ? c.red(attempt) : c.dim(attempt)}${redelivery}`;
}

/** How long request lines wait to leave together (see batchedLines): a frame. */
const PRINT_HOLD_MS = 16;

/**
 * Prints request lines, batched (see batchedLines): stdout to a pipe, a file or a
 * terminal is written synchronously in Node, and a write per request under load costs
 * more than the forward. `flush()` before exit.
 */
export function createRequestPrinter(io: CliIO, json: boolean): { print(record: CaptureRecord): void; flush(): void } {
  // One color instance for the run, not one per line.
  const c = colors(io);
  const lines = batchedLines((text) => io.stdout.write(text), { holdMs: PRINT_HOLD_MS });
  return {
    print(record) {
      lines.line(json ? JSON.stringify(requestJson(record)) : requestLine(record, io, c));
    },
    flush: lines.flush,
  };
}
