import { STATUS_CODES } from 'node:http';
import type { ChalkInstance } from 'chalk';
import type { DeliveryError, DeliveryOutcome } from '../delivery/deliver.js';
import { CheckFailedError } from '../errors.js';
import { printableLine, printableSnippet } from '../util/printable.js';
import { colors } from './colors.js';
import { printLine, type CliIO } from './io.js';
import { formatDuration } from '../util/duration.js';

/** One delivery to report: shared by `send`, `replay` and `check`. */
export interface DeliveryReport {
  /** The event name, or whatever identifies the request (a capture id for replay). */
  event: string;
  /** 1 for the first try; retries and repeats count up. */
  attempt: number;
  outcome: DeliveryOutcome;
}

/** The `--json` shape of one delivery. */
export interface DeliveryRecord {
  event: string;
  status: number | null;
  ok: boolean;
  latencyMs: number;
  attempt: number;
  error?: DeliveryError;
  /** The first bytes of a non-2xx answer. */
  response?: string;
}

const SNIPPET_CHARS = 80;

export function deliveryRecord(report: DeliveryReport): DeliveryRecord {
  const { outcome } = report;
  const record: DeliveryRecord = {
    event: report.event,
    status: outcome.status ?? null,
    ok: outcome.ok,
    latencyMs: roundMs(outcome.latencyMs),
    attempt: report.attempt,
  };
  if (outcome.error) record.error = outcome.error;
  if (outcome.responseSnippet !== undefined && outcome.responseSnippet !== '') record.response = outcome.responseSnippet;
  return record;
}

/** Milliseconds with one decimal: enough for a local round trip, not noise. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** A latency column: whole ms, or seconds with two fixed decimals so the column does not jitter. */
export function formatLatency(ms: number): string {
  return formatDuration(ms, { unit: ms < 1000 ? 'ms' : 's', fixed: true });
}

/**
 * An answer's body with each run of ASCII whitespace as one space, trimmed: an HTML error
 * page reads as one line. Through Latin-1, which maps bytes 1:1, so other bytes stay exact.
 */
function collapseWhitespace(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/[\t\n\r\f\v ]+/g, ' ').replace(/^ | $/g, ''), 'latin1');
}

/** Why a delivery failed, in one short phrase; undefined when it did not. */
export function failureReason(outcome: DeliveryOutcome): string | undefined {
  if (outcome.ok) return undefined;
  if (outcome.error) return printableSnippet(outcome.error.message);
  const head = outcome.responseHead ?? (outcome.responseSnippet !== undefined ? Buffer.from(outcome.responseSnippet) : undefined);
  if (head !== undefined) {
    const snippet = printableSnippet(collapseWhitespace(head), SNIPPET_CHARS);
    if (snippet !== '') return snippet;
  }
  const status = outcome.status;
  return status !== undefined ? `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() : 'no answer';
}

function colourStatus(outcome: DeliveryOutcome, chalk: ChalkInstance): string {
  const text = outcome.status !== undefined ? String(outcome.status) : '---';
  if (outcome.ok) return chalk.green(text);
  if (outcome.status !== undefined && outcome.status < 500) return chalk.yellow(text);
  return chalk.red(text);
}

/**
 * `MessageBounced  200  12 ms` or `MessageBounced  ---  5.00 s  timed out after 5000 ms`;
 * `tag` goes first, dimmed: a text, or `true` for the attempt (`#2`).
 */
export function formatDelivery(report: DeliveryReport, chalk: ChalkInstance, tag?: string | boolean): string {
  // For replay, `event` comes from a captures file and the tag is its capture id: outside
  // text, escaped like the reason; whichever starts the line may not start a CI command.
  const label = tag === true ? `#${report.attempt}` : tag === false ? undefined : tag;
  const event = label === undefined ? printableLine(report.event) : printableSnippet(report.event);
  const parts = [event.padEnd(22), colourStatus(report.outcome, chalk), formatLatency(report.outcome.latencyMs).padStart(8)];
  if (label !== undefined) parts.unshift(chalk.dim(printableLine(label)));
  const reason = failureReason(report.outcome);
  if (reason !== undefined) parts.push(chalk.red(reason));
  return parts.join('  ');
}

export interface PrintDeliveryOptions {
  json: boolean;
  /** Start the pretty line with `#<attempt>`. */
  showAttempt?: boolean;
  /** Start the pretty line with this instead (wins over showAttempt). */
  tag?: string;
  /** More fields for the JSON object (e.g. `repeat`). */
  extra?: Record<string, unknown>;
}

/** One delivery on stdout: a pretty line, or one JSON object with `--json`. */
export function printDelivery(io: CliIO, report: DeliveryReport, options: PrintDeliveryOptions): void {
  if (options.json) {
    printLine(io, JSON.stringify({ ...deliveryRecord(report), ...options.extra }));
    return;
  }
  printLine(io, formatDelivery(report, colors(io), options.tag ?? options.showAttempt));
}

/** `send` and `scenario` exit 1 unless every delivery got a 2xx in time, saying how many did not. */
export function assertAllDelivered(tally: { sent: number; ok: number }, timeoutMs: number): void {
  const failed = tally.sent - tally.ok;
  if (failed === 0) return;
  throw new CheckFailedError(
    `${failed} of ${tally.sent} ${tally.sent === 1 ? 'delivery' : 'deliveries'} failed (FrontEngine needs a 2xx within ` +
      `${formatDuration(timeoutMs)})`,
  );
}
