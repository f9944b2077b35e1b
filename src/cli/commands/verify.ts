import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { DEFAULT_CAPTURES_FILE } from '../../config/defaults.js';
import { resolveSecret } from '../../config/secret.js';
import { CheckFailedError, UserError, errorMessage } from '../../errors.js';
import { resolveEventName } from '../../events/names.js';
import { parseExpectation } from '../../verify/expectations.js';
import type { InputSpec } from '../../verify/inputs.js';
import { reporterFromSpec } from '../../verify/reporters/index.js';
import type { Paint, Reporter } from '../../verify/reporters/reporter.js';
import { textReporter } from '../../verify/reporters/text.js';
import { verifyRequests } from '../../verify/run.js';
import { readBytes } from '../inputs.js';
import { colors } from '../colors.js';
import { colorLevel, logLine, type CliIO } from '../io.js';
import { collect, durationArg } from '../parsers.js';

export type ReporterName = 'text' | 'json' | 'junit';

export interface VerifyCliOptions {
  secret?: string[];
  body?: string;
  signature?: string;
  event?: string;
  expect?: string[];
  maxAge?: number;
  reporter: ReporterName;
  json?: boolean;
  output?: string;
  ignoreAppStatus?: boolean;
}

async function secretsFor(options: VerifyCliOptions, io: CliIO): Promise<string[]> {
  if (options.secret && options.secret.length > 0) {
    if (options.secret.some((s) => s === '')) throw new UserError('--secret must not be empty');
    return options.secret;
  }
  const resolved = await resolveSecret({ env: io.env, cwd: io.cwd, createLocal: false });
  if (!resolved) {
    throw new UserError(
      'No secret to verify with: pass --secret (repeatable for rotation), set FE_WEBHOOKS_SECRET, or put "secret" in the config file',
    );
  }
  return [resolved.secret];
}

async function inputsFor(files: string[], options: VerifyCliOptions, io: CliIO): Promise<InputSpec[]> {
  if (options.body !== undefined || options.signature !== undefined) {
    if (options.body === undefined || options.signature === undefined) throw new UserError('--body and --signature go together');
    if (files.length > 0) throw new UserError('Give either files or --body/--signature, not both');
    const name = options.body === '-' ? 'stdin' : options.body;
    return [{ kind: 'single', name, body: await readBytes(options.body, io), signature: options.signature }];
  }
  if (files.length === 0) {
    try {
      await access(path.resolve(io.cwd, DEFAULT_CAPTURES_FILE));
    } catch {
      throw new UserError(`No captures at ${DEFAULT_CAPTURES_FILE}: run \`fe-webhooks listen\` first, or name a captures or HAR file`);
    }
    return [{ kind: 'file', path: DEFAULT_CAPTURES_FILE }];
  }
  if (files.filter((f) => f === '-').length > 1) throw new UserError('stdin (-) can be read only once');
  return files.map((file) => (file === '-' ? { kind: 'stdin', stream: io.stdin as AsyncIterable<Buffer> } : { kind: 'file', path: file }));
}

/** Captures files from this size (~8,000 requests) up are checked on worker threads. */
const WORKERS_FROM_BYTES = 8 * 1024 * 1024;
/** More threads than this and the one that reads and merges becomes the limit. */
const MAX_THREADS = 4;
/** Overrides WORKERS_FROM_BYTES (tests use it to exercise the worker path on small files). */
const WORKERS_FROM_BYTES_ENV = 'FE_WEBHOOKS_VERIFY_WORKERS_FROM_BYTES';
/** Set (to anything): workers get pieces from the first one, once started (tests, again). */
const WAIT_FOR_WORKERS_ENV = 'FE_WEBHOOKS_VERIFY_WAIT_FOR_WORKERS';

function workersFor(io: CliIO): { count: number; minFileBytes: number; waitUntilReady: boolean } {
  const fromEnv = Number(io.env[WORKERS_FROM_BYTES_ENV]);
  const minFileBytes = io.env[WORKERS_FROM_BYTES_ENV] !== undefined && Number.isFinite(fromEnv) ? fromEnv : WORKERS_FROM_BYTES;
  return { count: Math.min(availableParallelism(), MAX_THREADS), minFileBytes, waitUntilReady: io.env[WAIT_FOR_WORKERS_ENV] !== undefined };
}

function reporterFor(name: ReporterName, secretCount: number, paint: Paint | undefined): Reporter {
  return name === 'text' ? textReporter(secretCount, paint) : reporterFromSpec({ name, secretCount });
}

function streamWriter(stream: NodeJS.WritableStream): (text: string | Buffer) => Promise<void> {
  return async (text) => {
    if (text.length > 0 && !stream.write(text)) await once(stream, 'drain');
  };
}

/** Checks captured requests; throws CheckFailedError (exit 1) when any fails. */
export async function verifyCommand(files: string[], options: VerifyCliOptions, io: CliIO): Promise<void> {
  const reporterName: ReporterName = options.json ? 'json' : options.reporter;
  const expect = (options.expect ?? []).map(parseExpectation);
  const event = options.event !== undefined ? resolveEventName(options.event) : undefined;
  const secrets = await secretsFor(options, io);
  const inputs = await inputsFor(files, options, io);
  const file = options.output !== undefined ? createWriteStream(path.resolve(io.cwd, options.output)) : undefined;
  if (file) {
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (error) => reject(new UserError(`Cannot write ${options.output}: ${errorMessage(error)}`)));
    });
  }
  const chalk = colors(io);
  const paint = !file && colorLevel(io) > 0 ? { pass: chalk.green, fail: chalk.red, dim: chalk.dim } : undefined;
  try {
    const summary = await verifyRequests({
      inputs,
      secrets,
      event,
      expect,
      maxAgeMs: options.maxAge,
      ignoreAppStatus: options.ignoreAppStatus,
      cwd: io.cwd,
      // The report goes to a file: the log still says which requests failed, and why.
      echoFailures:
        file && options.output !== undefined ? { write: (text) => void io.stderr.write(text), report: options.output } : undefined,
      reporter: reporterFor(reporterName, secrets.length, paint),
      write: streamWriter(file ?? io.stdout),
      workers: workersFor(io),
    });
    if (file) logLine(io, `${summary.passed} passed, ${summary.failed} failed (${reporterName} report in ${options.output})`);
    if (summary.requests.passed + summary.requests.failed === 0) {
      // Checking nothing is never a pass: a CI step must not go green on an export of page loads.
      const why = [
        summary.skipped > 0 ? `${summary.skipped} non-POST request(s) skipped` : '',
        summary.filteredOut > 0 ? `${summary.filteredOut} request(s) of other events left out by --event` : '',
      ].filter(Boolean);
      throw new UserError(`Nothing verified: no webhook requests in the input${why.length > 0 ? ` (${why.join(', ')})` : ''}`);
    }
    // The report already says what failed; the exit code is all that is left to say.
    if (summary.failed > 0) throw new CheckFailedError('');
  } finally {
    if (file) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}

export function register(command: Command, io: CliIO): void {
  command
    .argument('[files...]', `captures JSON Lines or HAR 1.2 files, - for stdin (default: ${DEFAULT_CAPTURES_FILE})`)
    .option(
      '--secret <secret>',
      'secret to verify with; repeat for rotation (default: $FE_WEBHOOKS_SECRET, config, local dev secret)',
      collect,
    )
    .option('--body <file>', 'verify one request body (- for stdin) ...')
    .option('--signature <sig>', '... with this X-Webhook-Signature value')
    .option('--event <event>', 'check only this event type')
    .option('--expect <event[:n]>', 'fail unless at least N valid deliveries of EVENT were seen (repeatable; N defaults to 1)', collect)
    .option('--max-age <duration>', 'fail requests whose payload timestamp is older, e.g. 10m, 24h', durationArg('--max-age'))
    .option('--ignore-app-status', "don't fail requests that listen forwarded to an app that did not answer 2xx")
    .addOption(new Option('--reporter <format>', 'report format').choices(['text', 'json', 'junit']).default('text'))
    .option('--json', 'same as --reporter json')
    .option('--output <file>', 'write the report to this file instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks verify                                   # .fe-webhooks/captures.jsonl\n' +
        '  $ fe-webhooks verify export.har --secret "$OLD" --secret "$NEW"\n' +
        '  $ fe-webhooks verify --expect MessageSent:2 --max-age 1h --reporter junit --output verify.xml\n' +
        '  $ fe-webhooks verify --body body.json --signature "sha256=…"',
    )
    .action((files: string[], options: VerifyCliOptions) => verifyCommand(files, options, io));
}
