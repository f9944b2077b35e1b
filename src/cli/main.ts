import { errorMessage, isUserFacingError } from '../errors.js';
import { printableSnippet } from '../util/printable.js';
import { environmentFault, stdoutWriteFailure } from './environment-fault.js';
import { processIO, type CliIO } from './io.js';
import { bugReportAddress, packageVersion } from './version.js';

/** Commander's own exits that are not failures. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);
/** An error line past this is cut: messages quote input (an event name, a URL, a config value). */
const ERROR_LINE_MAX_CHARS = 1000;

/**
 * The one place that decides exit codes: runs the program and maps what it threw.
 * User errors get one line; anything else is a bug and gets its stack and a report link.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  if (io.stdout === process.stdout) handleProcessFaults();
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    // The commonest scripted call; answered before any command module loads.
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // Commander and the command modules load only past the --version fast path.
  const { createProgram } = await import('./program.js');
  const { CommanderError } = await import('commander');
  const program = await createProgram(io, args);
  if (args.length === 0) {
    // `fe-webhooks` alone: the overview, on stdout, as success.
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its one-line message.
      if (COMMANDER_SUCCESS.has(error.code)) return 0;
      return 2;
    }
    if (isUserFacingError(error)) {
      // One printable line whatever the message quotes (a body's event name, a bad URL).
      if (error.message) io.stderr.write(errorLine(error.message));
      return error.exitCode;
    }
    const fault = environmentFault(error);
    if (fault) {
      io.stderr.write(errorLine(fault.message));
      return fault.exitCode;
    }
    io.stderr.write(`${crashReportLine()}\n${(error as Error)?.stack ?? errorMessage(error)}\n`);
    return 70;
  }
}

/**
 * The first line of a crash. The address comes from package.json's `bugs` field; with
 * none, no address is made up: the user is asked to pass the output on.
 */
export function crashReportLine(address = bugReportAddress()): string {
  const where = address !== undefined ? ` at ${address}` : '';
  return `fe-webhooks ${packageVersion()} crashed: this is a bug. Please report it${where} with the command you ran and the output below.`;
}

/**
 * Faults outside the promise that main() awaits, in a real process:
 * - stdout's reader went away (`fe-webhooks events | head -1`): stop quietly with exit 0,
 *   as ripgrep does (git dies of SIGPIPE instead, 141), so `set -o pipefail` scripts pass;
 * - any other failed write to stdout (`> /dev/full`: ENOSPC): one line on stderr, exit 1;
 * - stderr itself failing: nothing left to tell it to;
 * - an environment fault thrown from a callback (EMFILE…): one line, never a stack trace.
 */
function handleProcessFaults(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    writeErrorLine(stdoutWriteFailure(error));
    process.exit(1);
  });
  process.stderr.on('error', () => undefined);
  process.on('uncaughtException', (error) => {
    const fault = environmentFault(error);
    if (fault) {
      writeErrorLine(fault.message);
      process.exit(fault.exitCode);
    }
    process.stderr.write(`${crashReportLine()}\n${error?.stack ?? errorMessage(error)}\n`);
    process.exit(70);
  });
}

function writeErrorLine(message: string): void {
  process.stderr.write(errorLine(message));
}

/** `error: <message>` as one printable line, whatever the message quotes. */
export function errorLine(message: string): string {
  return `error: ${printableSnippet(message, ERROR_LINE_MAX_CHARS)}\n`;
}
