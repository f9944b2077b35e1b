/**
 * Faults of the machine, not of the program: a full disk, a closed pipe, no permission, too
 * many open files. They get one line and an exit code, never a stack trace or the "this is
 * a bug" exit 70 (issue 16). Only main.ts uses this: it is where errors become exit codes.
 */

/** A path the user gave that cannot be used as it is: an input error, exit 2 (SPEC). */
const INPUT_FAULT_CODES = new Set(['EACCES', 'EPERM', 'ENOENT', 'EISDIR', 'ENOTDIR', 'EROFS', 'ELOOP', 'ENAMETOOLONG', 'EEXIST']);

export interface EnvironmentFault {
  exitCode: 1 | 2;
  /** Node's own text (`ENOSPC: no space left on device, write`): it names the code and the call. */
  message: string;
}

/**
 * A Node system error (it carries an `E…` code and the system call that failed) as a fault
 * of the environment; undefined for anything else, which stays a bug.
 * Exit 2 for a path that cannot be used, 1 for the rest (ENOSPC, EMFILE, EIO, EPIPE…).
 */
export function environmentFault(error: unknown): EnvironmentFault | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, syscall, message } = error as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code) || typeof syscall !== 'string') return undefined;
  return { exitCode: INPUT_FAULT_CODES.has(code) ? 2 : 1, message: typeof message === 'string' && message !== '' ? message : code };
}

/** The one line for a failed write to standard output. */
export function stdoutWriteFailure(error: NodeJS.ErrnoException): string {
  return `cannot write to standard output: ${error.message || error.code}`;
}
