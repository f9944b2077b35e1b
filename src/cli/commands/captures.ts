import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { writeHar } from '../../capture/har.js';
import { readJsonLines } from '../../capture/reader.js';
import type { CaptureRecord } from '../../capture/record.js';
import { DEFAULT_CAPTURES_FILE } from '../../config/defaults.js';
import { UserError, errorMessage } from '../../errors.js';
import { logLine, type CliIO } from '../io.js';
import { packageVersion } from '../version.js';

export interface ExportCliOptions {
  har: boolean;
  from?: string;
  output?: string;
}

function looksLikeCapture(value: unknown): value is CaptureRecord {
  const v = value as Partial<CaptureRecord> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.id === 'string' &&
    typeof v.method === 'string' &&
    typeof v.path === 'string' &&
    typeof v.body === 'string' &&
    typeof v.headers === 'object'
  );
}

/** Skips (and reports) lines that are not captures, such as a half-written last line. */
async function* captures(file: string, io: CliIO): AsyncGenerator<CaptureRecord> {
  for await (const line of readJsonLines(file)) {
    if (line.ok && looksLikeCapture(line.value)) yield line.value;
    else logLine(io, `warning: ${file}:${line.lineNumber}: not a capture, skipped`);
  }
}

function writeTo(stream: NodeJS.WritableStream): (chunk: string) => Promise<void> | void {
  return (chunk) => {
    if (stream.write(chunk)) return;
    return new Promise((resolve) => stream.once('drain', () => resolve()));
  };
}

/** `captures export --har`: the captures file as one HAR 1.2 document. */
export async function exportCommand(options: ExportCliOptions, io: CliIO): Promise<void> {
  const from = path.resolve(io.cwd, options.from ?? DEFAULT_CAPTURES_FILE);
  try {
    if (!(await stat(from)).isFile()) throw new UserError(`Cannot read ${options.from ?? DEFAULT_CAPTURES_FILE}: not a file`);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      `Cannot read ${options.from ?? DEFAULT_CAPTURES_FILE}: ` +
        `${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (run fe-webhooks listen first)' : errorMessage(error)}`,
    );
  }
  const creator = { name: 'fe-webhooks', version: packageVersion() };
  if (options.output === undefined || options.output === '-') {
    await writeHar(captures(from, io), writeTo(io.stdout), creator);
    return;
  }
  const out = createWriteStream(path.resolve(io.cwd, options.output), { mode: 0o600 });
  const opened = new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject));
  await opened.catch((error: Error) => {
    throw new UserError(`Cannot write ${options.output}: ${error.message}`);
  });
  const count = await writeHar(captures(from, io), writeTo(out), creator);
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject));
  logLine(io, `Wrote ${count} request${count === 1 ? '' : 's'} to ${options.output}`);
}

export function register(command: Command, io: CliIO): void {
  command
    .addHelpText('after', '\nExample:\n  $ fe-webhooks captures export --har --output webhooks.har')
    .command('export')
    .description('export captures as HAR 1.2, for browser dev tools and HAR viewers')
    .option('--har', 'HAR 1.2 (the default and, for now, only format)', true)
    .option('--from <file>', `the captures file (default ${DEFAULT_CAPTURES_FILE})`)
    .option('-o, --output <file>', 'write here instead of stdout')
    .addHelpText('after', '\nExample:\n  $ fe-webhooks captures export --har --output webhooks.har')
    .action((options: ExportCliOptions) => exportCommand(options, io));
}
