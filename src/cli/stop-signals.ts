/**
 * The CLI's one handler for Ctrl-C and `kill`. A long-running command (listen, relay,
 * load mode) stops gracefully on the first SIGINT or SIGTERM: it finishes what is in
 * flight and prints its summary. Stopping must never depend on that going well, so:
 * - the handler is removed at the first signal, and a second one gets Node's default
 *   action (the process ends at once), as Ctrl-C twice does in most tools;
 * - a graceful stop that takes longer than STOP_GRACE_MS is cut short (one line on
 *   stderr, then exit): a single `kill` from systemd, Docker or CI always ends it.
 * Commands that wait on nothing of their own (check, verify, replay, send) install no
 * handler: Node's default action ends them at once.
 */

/** Docker's and systemd's usual patience before SIGKILL is about 10 s; ours ends first. */
export const STOP_GRACE_MS = 8_000;

const EXIT_CODE: Record<StopSignalName, number> = { SIGINT: 130, SIGTERM: 143 };

export type StopSignalName = 'SIGINT' | 'SIGTERM';

export interface StopSignal {
  /** Resolves with the first signal. */
  readonly received: Promise<StopSignalName>;
  /** Aborted at the first signal (for code that takes an AbortSignal). */
  readonly signal: AbortSignal;
  /** The command finished without a signal: remove the handlers. */
  dispose(): void;
}

export function watchStopSignals(stderr: NodeJS.WritableStream = process.stderr): StopSignal {
  const controller = new AbortController();
  let resolve!: (name: StopSignalName) => void;
  const received = new Promise<StopSignalName>((r) => (resolve = r));
  const onSignal = (name: StopSignalName): void => {
    dispose();
    const deadline = setTimeout(() => {
      stderr.write(`Still stopping after ${STOP_GRACE_MS / 1000} s: exiting now.\n`);
      process.exit(EXIT_CODE[name]);
    }, STOP_GRACE_MS);
    // Only a stop that is still running when it fires is cut short.
    deadline.unref();
    controller.abort();
    resolve(name);
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  const dispose = (): void => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return { received, signal: controller.signal, dispose };
}
