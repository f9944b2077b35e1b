import { PreparedSecrets } from '../signing/index.js';
import { checkCounted, type CheckContext } from './checks.js';
import type { ChunkSetup } from './chunk.js';
import { type Expectation } from './expectations.js';
import { openInput, type InputSpec, type OpenedInput } from './inputs.js';
import { checkInOrder, filePieces, VerifyPool } from './parallel.js';
import type { Reporter } from './reporters/reporter.js';
import { RunTally } from './tally.js';
import type { VerifySummary } from './types.js';

export interface VerifyOptions {
  inputs: readonly InputSpec[];
  /** Every secret to try, in order (rotation); at least one. */
  secrets: readonly string[];
  /** Canonical event name: only this event is checked. */
  event?: string;
  expect?: readonly Expectation[];
  maxAgeMs?: number;
  now?: () => number;
  cwd: string;
  reporter: Reporter;
  /** Where the report goes (UTF-8 bytes, whole lines); awaited, so a slow pipe holds reading back. */
  write(text: string | Buffer): Promise<void> | void;
  /**
   * Check captures files of at least `minFileBytes` on `count` threads: this one and
   * count - 1 workers (same report, byte for byte). Off when absent, when count < 2, or
   * when the reporter cannot be built in a worker (colours).
   */
  workers?: { count: number; minFileBytes: number };
}

/**
 * Verifies every request of every input and writes the report as it goes. All inputs
 * are opened (and their format detected) before the first verdict, so a bad path is an
 * input error, not a report cut in half.
 */
export async function verifyRequests(options: VerifyOptions): Promise<VerifySummary> {
  const opened: OpenedInput[] = [];
  for (const spec of options.inputs) opened.push(await openInput(spec, options.cwd));
  const nowMs = (options.now ?? Date.now)();
  const ctx: CheckContext = { secrets: new PreparedSecrets(options.secrets), maxAgeMs: options.maxAgeMs, nowMs, event: options.event };
  const { reporter, workers } = options;
  const tally = new RunTally(reporter, options.write, options.expect ?? []);
  // Worker threads need a reporter they can rebuild, and a file to read afresh in pieces.
  const setup: Omit<ChunkSetup, 'slots' | 'results'> | undefined =
    reporter.spec !== undefined && workers !== undefined && workers.count >= 2
      ? { secrets: [...options.secrets], event: options.event, maxAgeMs: options.maxAgeMs, nowMs, reporter: reporter.spec }
      : undefined;
  let pool: VerifyPool | undefined;
  await options.write(reporter.start(opened.map((input) => input.name)));
  try {
    for (const input of opened) {
      if (setup && workers && input.file && input.file.bytes >= workers.minFileBytes) {
        input.close();
        pool ??= new VerifyPool(workers.count, setup);
        await checkInOrder(pool, filePieces(input.file.path, input.name, pool.slots), (result) => tally.addChunk(result));
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
  } finally {
    await pool?.close();
  }
  const summary = tally.summary(options.secrets.length, opened.map((input) => input.name));
  await options.write(reporter.finish(summary));
  return summary;
}
