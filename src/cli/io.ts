/**
 * What a command may touch of the outside world. Actions take it instead of reaching
 * for `process`, so tests can run them in-process with their own streams and env.
 */
export interface CliIO {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** `--no-color` was given. */
  noColor?: boolean;
}

export function processIO(): CliIO {
  return {
    cwd: process.cwd(),
    env: process.env,
    // A getter: Node creates process.stdin on first access, and creating it loads the
    // whole stream stack (~5 ms of start-up) for the many commands that never read it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/**
 * Colour only on a terminal, never with NO_COLOR or --no-color; FORCE_COLOR wins (for tests).
 * FORCE_COLOR=0 or =false turns colour off, as chalk and Node's own util read it.
 */
export function colorLevel(io: CliIO, stream: 'stdout' | 'stderr' = 'stdout'): 0 | 1 | 2 | 3 {
  const force = io.env.FORCE_COLOR;
  if (force === '0' || force === 'false') return 0;
  if (force !== undefined && force !== '') return 1;
  if (io.noColor || (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '')) return 0;
  if (io.env.TERM === 'dumb') return 0;
  return io[stream].isTTY ? 1 : 0;
}

/** Writes one line to stdout (results). */
export function printLine(io: CliIO, line: string): void {
  io.stdout.write(`${line}\n`);
}

/** Writes one line to stderr (logs, warnings, progress). */
export function logLine(io: CliIO, line: string): void {
  io.stderr.write(`${line}\n`);
}

/**
 * Whether live progress (spinners, redrawn lines) belongs on stderr: a terminal with a
 * known width. A redraw clears the lines it wrote, counted by dividing by the width; a
 * pty that reports 0 columns (`script` without a terminal, some CI runners) made ora
 * clear lines forever, at 100% CPU and deaf to Ctrl-C.
 */
export function showsProgress(io: CliIO): boolean {
  const columns = (io.stderr as { columns?: unknown }).columns;
  return Boolean(io.stderr.isTTY) && colorLevel(io, 'stderr') > 0 && typeof columns === 'number' && columns > 0;
}
