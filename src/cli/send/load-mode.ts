import { FRONTENGINE_TIMEOUT_MS } from '../../config/defaults.js';
import { createHttp1Pool } from '../../delivery/http1/pool.js';
import { runLoad, type LoadSummary } from '../../delivery/load.js';
import { signedHeaderLists } from '../../delivery/request.js';
import { uniqueBodies } from '../../delivery/unique-bodies.js';
import { planDuplicates } from '../../delivery/duplicate-requests.js';
import { CheckFailedError, InterruptedError } from '../../errors.js';
import { colors } from '../colors.js';
import { printLine, showsProgress, type CliIO } from '../io.js';
import { watchStopSignals } from '../stop-signals.js';
import { plannedBodies } from './bodies.js';
import { formatDuration } from '../../util/duration.js';
import type { SendPlan } from './plan.js';
import { unreachableError } from './unreachable.js';

const PROGRESS_INTERVAL_MS = 100;

/** The `--json` summary: exactly the documented fields; `failures` by cause: `{"timeout": {"count": 2, "reason": "…"}}`. */
function summaryJson(summary: LoadSummary): string {
  const { sent, ok, failed, durationMs, rps, latencyMs, over5s } = summary;
  return JSON.stringify({ sent, ok, failed, failures: failuresByCause(summary), durationMs, rps, latencyMs, over5s });
}

function failuresByCause(summary: LoadSummary): Record<string, { count: number; reason: string }> {
  return Object.fromEntries(
    Object.entries(summary.failures).map(([cause, count]) => [cause, { count, reason: summary.failureReasons[cause] ?? '' }]),
  );
}

/** No more connections than events: `--count 3 --concurrency 100000` opens 3. */
function connectionCount(plan: SendPlan): number {
  return Math.max(1, Math.min(plan.load.concurrency, plan.load.count));
}

/**
 * Load mode: `count` unique events (fresh ids, each signed) over `concurrency` pooled
 * connections, then one summary. Fails (exit 1) when any delivery failed.
 */
export async function sendLoad(plan: SendPlan, io: CliIO): Promise<void> {
  // One sample per event first: warns once about schema breakage instead of once per request.
  plannedBodies(plan, io);
  const { count, ratePerSec } = plan.load;
  const concurrency = connectionCount(plan);
  const duplicates = planDuplicates(count, plan.load.duplicates);
  const pool = createHttp1Pool(plan.url, concurrency, { insecure: plan.insecure });
  const headersFor = signedHeaderLists({ userAgent: plan.userAgent, secret: plan.secret, extraHeaders: plan.headers });
  const bodySources = plan.events.map((event) => uniqueBodies(event, { partial: plan.partial, overrides: plan.overrides }));
  let done = 0;
  const stopProgress = await startProgress(io, () => `sent ${done}/${duplicates.total}`);
  // Ctrl-C (or SIGTERM) stops sending and still prints the summary of what was sent (then exit 130).
  const interrupt = watchStopSignals(io.stderr);
  let summary: LoadSummary;
  try {
    summary = await runLoad({
      url: plan.url,
      count: duplicates.total,
      concurrency,
      ratePerSec,
      timeoutMs: plan.timeoutMs,
      pool,
      signal: interrupt.signal,
      makeRequest: duplicates.wrap((index) => {
        // Round-robin over the events; each event numbers its own bodies 0, 1, 2, …
        const nextBody = bodySources[index % bodySources.length] as (serial: number) => string;
        // Signed as UTF-8 and written as UTF-8 in one write with its head: the same bytes.
        const body = nextBody(Math.floor(index / bodySources.length));
        return { body, headers: headersFor(body) };
      }),
      // Counted only for the spinner: off a terminal nothing per delivery is needed.
      onDelivery: showsProgress(io)
        ? () => {
            done++;
          }
        : undefined,
    });
  } finally {
    interrupt.dispose();
    stopProgress();
    await pool.close();
  }
  // --duplicates adds its count to the summary (and only then: the documented fields stay as they are).
  if (plan.json)
    printLine(
      io,
      duplicates.duplicates > 0
        ? JSON.stringify({ ...(JSON.parse(summaryJson(summary)) as object), duplicates: duplicates.duplicates })
        : summaryJson(summary),
    );
  else printSummary(plan, summary, io);
  if (!plan.json && duplicates.duplicates > 0)
    printLine(io, `  ${'duplicates'.padEnd(11)} ${duplicates.duplicates} (sent twice, same bytes and signature)`);
  if (interrupt.signal.aborted) throw new InterruptedError(`Interrupted after ${summary.sent} of ${duplicates.total} deliveries`);
  if (plan.urlIsDefault && summary.failures.refused === summary.sent) throw unreachableError(plan);
  if (summary.failed > 0) throw new CheckFailedError(`${summary.failed} of ${summary.sent} deliveries failed`);
}

/** A spinner on stderr, only on a terminal; returns how to stop it. */
async function startProgress(io: CliIO, text: () => string): Promise<() => void> {
  if (!showsProgress(io)) return () => {};
  const { default: ora } = await import('ora');
  const spinner = ora({ text: text(), stream: io.stderr as NodeJS.WriteStream }).start();
  const timer = setInterval(() => (spinner.text = text()), PROGRESS_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    spinner.stop();
  };
}

function printSummary(plan: SendPlan, summary: LoadSummary, io: CliIO): void {
  const chalk = colors(io);
  const { latencyMs: l } = summary;
  const failures = Object.entries(summary.failures).map(([why, n]) => `${why} ${n}`).join(', ');
  const rows: Array<[string, string]> = [
    ['sent', String(summary.sent)],
    ['ok', chalk.green(String(summary.ok))],
    ['failed', summary.failed > 0 ? chalk.red(`${summary.failed} (${failures})`) : '0'],
    ['duration', formatDuration(summary.durationMs)],
    ['throughput', `${summary.rps} req/s`],
    ['latency', `p50 ${l.p50} ms  p95 ${l.p95} ms  p99 ${l.p99} ms  max ${l.max} ms`],
    [`over ${formatDuration(FRONTENGINE_TIMEOUT_MS)}`, summary.over5s > 0 ? chalk.red(String(summary.over5s)) : '0'],
  ];
  const connections = connectionCount(plan);
  printLine(
    io,
    `Load: ${plan.load.count} events to ${plan.url.href} over ${connections} ` +
      `connection${connections === 1 ? '' : 's'}${plan.load.ratePerSec ? ` at ≤ ${plan.load.ratePerSec} req/s` : ''}`,
  );
  for (const [name, value] of rows) printLine(io, `  ${name.padEnd(11)} ${value}`);
  // Each cause once, with what it means: "other 764" told nobody that the file limit was hit.
  for (const [cause, reason] of Object.entries(summary.failureReasons)) printLine(io, `  ${chalk.red(`${cause}:`)} ${reason}`);
}
