import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PreparedSecrets } from '../signing/index.js';
import { checkCounted, type CheckContext } from './checks.js';
import type { ChunkSetup } from './chunk.js';
import { type Expectation } from './expectations.js';
import { openInput, type InputSpec, type OpenedInput } from './inputs.js';
import { checkInOrder, filePieces, VerifyPool } from './parallel.js';
import { FailureEcho } from './failure-echo.js';
import type { Reporter } from './reporters/reporter.js';
import { textReporter } from './reporters/text.js';
import { RunTally } from './tally.js';
import type { VerifySummary } from './types.js';
import { skipped } from '../util/debug.js';

export interface VerifyOptions {
  inputs: readonly InputSpec[];
  /** Every secret to try, in order (rotation); at least one. */
  secrets: readonly string[];
  /** Canonical event name: only this event is checked. */
  event?: string;
  expect?: readonly Expectation[];
  maxAgeMs?: number;
  /** --ignore-app-status: a recorded forward that the app did not take does not fail the request. */
  ignoreAppStatus?: boolean;
  now?: () => number;
  cwd: string;
  reporter: Reporter;
  /**
   * Also say each failing request as a text line here (the console, when the report goes
   * to a file), at most ECHO_LIMIT of them; `report` names the report for the rest.
   */
  echoFailures?: { write(text: string): void; report: string };
  /** Where the report goes (UTF-8 bytes, whole lines); awaited, so a slow pipe holds reading back. */
  write(text: string | Buffer): Promise<void> | void;
  /**
   * Check captures files of at least `minFileBytes` on `count` threads: this one and
   * count - 1 workers (same report, byte for byte). Off when absent, when count < 2, or
   * when the reporter cannot be built in a worker (colours). `waitUntilReady`: share
   * pieces only once every worker has started (tests: a small file is otherwise checked
   * here alone, before a worker is up).
   */
  workers?: { count: number; minFileBytes: number; waitUntilReady?: boolean };
}

/**
 * Verifies every request of every input and writes the report as it goes. All inputs
 * are opened (and their format detected) before the first verdict, so a bad path is an
 * input error, not a report cut in half.
 */
export async function verifyRequests(options: VerifyOptions): Promise<VerifySummary> {
  const nowMs = (options.now ?? Date.now)();
  const ctx: CheckContext = {
    secrets: new PreparedSecrets(options.secrets),
    maxAgeMs: options.maxAgeMs,
    nowMs,
    event: options.event,
    ignoreAppStatus: options.ignoreAppStatus,
  };
  const { reporter, workers } = options;
  const sizes = await fileSizes(options.inputs, options.cwd);
  const echo = options.echoFailures && new FailureEcho(textReporter(options.secrets.length), options.echoFailures.write, ECHO_LIMIT);
  const tally = new RunTally(reporter, options.write, options.expect ?? [], expectedRequests(sizes), echo);
  // Worker threads need a reporter they can rebuild, and a file to read afresh in pieces.
  const setup: Omit<ChunkSetup, 'slots' | 'results'> | undefined =
    reporter.spec !== undefined && workers !== undefined && workers.count >= 2
      ? {
          secrets: [...options.secrets],
          event: options.event,
          maxAgeMs: options.maxAgeMs,
          ignoreAppStatus: options.ignoreAppStatus,
          nowMs,
          reporter: reporter.spec,
          echoFailures: echo !== undefined,
        }
      : undefined;
  // Started before the inputs are opened: a worker takes ~60 ms to start, time this
  // thread spends telling the formats apart and checking the first pieces itself.
  let pool = setup && workers && sizes.some((bytes) => bytes >= workers.minFileBytes) ? new VerifyPool(workers.count, setup) : undefined;
  try {
    const opened: OpenedInput[] = [];
    for (const spec of options.inputs) opened.push(await openInput(spec, options.cwd));
    await options.write(reporter.start(opened.map((input) => input.name)));
    for (const input of opened) {
      if (setup && workers && input.file && input.file.bytes >= workers.minFileBytes) {
        input.close();
        const sharing = (pool ??= new VerifyPool(workers.count, setup));
        if (workers.waitUntilReady) await sharing.ready();
        await checkInOrder(sharing, filePieces(input.file.path, input.name, sharing), (result) => tally.addChunk(result));
        continue;
      }
      for await (const items of input.items) {
        for (const item of items) {
          const checked = checkCounted(item, ctx, tally.counts);
          if (checked) await tally.add(checked);
        }
        await tally.flush();
      }
    }
    if (echo && options.echoFailures) echo.finish(options.echoFailures.report);
    const summary = tally.summary(options.secrets.length, opened.map((input) => input.name));
    await options.write(reporter.finish(summary));
    return summary;
  } finally {
    await pool?.close();
  }
}

/** The size of each input that is a file (one that cannot be read counts 0: opening it says why). */
async function fileSizes(inputs: readonly InputSpec[], cwd: string): Promise<number[]> {
  const sizes: number[] = [];
  for (const spec of inputs) {
    if (spec.kind !== 'file') continue;
    const info = await stat(path.resolve(cwd, spec.path)).catch(skipped('the size of an input file (counted as 0)'));
    sizes.push(info?.isFile() ? info.size : 0);
  }
  return sizes;
}

/** Failing requests said on the console at most; a CI log need not hold thousands. */
const ECHO_LIMIT = 50;

/** A captured request takes about a kilobyte (headers, a JSON body, escaped). */
const BYTES_PER_REQUEST = 1024;
/**
 * Past this the tables grow as requests come: a file of large bodies holds far fewer
 * requests than its size says, and an oversized table would be touched all over.
 */
const MOST_EXPECTED = 1 << 17;

/** About how many requests files of these sizes hold, to size the repeat tables once. */
function expectedRequests(sizes: readonly number[]): number {
  return Math.min(MOST_EXPECTED, Math.floor(sizes.reduce((sum, bytes) => sum + bytes, 0) / BYTES_PER_REQUEST));
}
