import { errorMessage, isUserFacingError } from '../errors.js';
import { processIO, type CliIO } from './io.js';
import { bugReportAddress, packageVersion } from './version.js';

/** Commander's own exits that are not failures. */
const COMMANDER_SUCCESS = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

/**
 * The one place that decides exit codes: runs the program and maps what it threw.
 * User errors get one line; anything else is a bug and gets its stack and a report link.
 */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  if (io.stdout === process.stdout) stopQuietlyWhenStdoutCloses();
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
      if (error.message) io.stderr.write(`error: ${error.message}\n`);
      return error.exitCode;
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
 * `fe-webhooks events | head -1`: when the reader goes away, stop quietly as Unix tools
 * do, instead of dying on an unhandled EPIPE with a stack trace.
 */
function stopQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
