import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliver } from '../../delivery/deliver.js';
import { createAgent } from '../../delivery/dispatcher.js';
import { signedHeaders } from '../../delivery/request.js';
import type { StoryEvent } from '../../scenario/compose-story.js';
import { drillOrder } from '../../scenario/drill.js';
import { colors } from '../colors.js';
import { printLine, type CliIO } from '../io.js';
import { printableSnippet } from '../../util/printable.js';
import { assertAllDelivered, printDelivery } from '../print-delivery.js';
import { warnAboutChanges } from '../schema-warnings.js';
import { formatDuration } from '../../util/duration.js';
import { assertReachable } from '../send/unreachable.js';
import type { ScenarioPlan } from './plan.js';

interface Tally {
  sent: number;
  ok: number;
  duplicates: number;
}

/** What the story is, as Stripe's `trigger` says what it sets up: the events in story order (not with --json). */
function announce(plan: ScenarioPlan, io: CliIO): void {
  if (!plan.json)
    printLine(io, colors(io).dim(`story ${printableSnippet(plan.story.name)}: ${plan.events.map((e) => e.event).join(' → ')}`));
  for (const event of plan.events.filter((e) => e.firstOfStep)) {
    const step = plan.story.steps[event.stepIndex];
    if (step) warnAboutChanges(io, step.event, { violations: event.violations, partial: step.data, overrides: step.set });
  }
}

/**
 * Delivers a composed story as `send` delivers: each event signed once over its exact
 * bytes (a duplicate carries the same bytes and signature), one line per delivery.
 * Throws CheckFailedError unless every delivery got a 2xx in time.
 */
export async function deliverStory(plan: ScenarioPlan, io: CliIO): Promise<void> {
  announce(plan, io);
  const order = drillOrder(plan.events, { duplicates: plan.duplicates, shuffle: plan.shuffle, seed: plan.seed });
  const headers = new Map<StoryEvent, Record<string, string>>(
    plan.events.map((event) => [event, signedHeaders(event.body, { userAgent: plan.userAgent, secret: plan.secret })]),
  );
  const dispatcher = createAgent({ insecure: plan.insecure, connectTimeoutMs: plan.timeoutMs });
  const tally: Tally = { sent: 0, ok: 0, duplicates: 0 };
  const started = performance.now();
  const of = plan.events.length;
  // Tags padded alike, so events line up whether or not a line is a duplicate.
  const tagWidth = `${of}/${of} dup`.length;
  try {
    for (const [index, { item: event, duplicate }] of order.entries()) {
      const waitMs = (index > 0 ? plan.intervalMs : 0) + (duplicate ? 0 : event.afterMs);
      if (waitMs > 0) await sleep(waitMs);
      const outcome = await deliver({
        url: plan.url,
        body: event.body,
        headers: headers.get(event) as Record<string, string>,
        timeoutMs: plan.timeoutMs,
        dispatcher,
      });
      tally.sent++;
      if (outcome.ok) tally.ok++;
      if (duplicate) tally.duplicates++;
      printDelivery(io, { event: event.event, attempt: 1, outcome }, {
        json: plan.json,
        tag: `${event.place}/${of}${duplicate ? ' dup' : ''}`.padEnd(plan.duplicates > 0 ? tagWidth : 0),
        extra: { step: event.step, place: event.place, of, duplicate },
      });
      assertReachable(plan, outcome);
    }
  } finally {
    await dispatcher.destroy();
  }
  printSummary(plan, tally, performance.now() - started, io);
  assertAllDelivered(tally, plan.timeoutMs);
}

function printSummary(plan: ScenarioPlan, tally: Tally, durationMs: number, io: CliIO): void {
  const failed = tally.sent - tally.ok;
  if (plan.json) {
    printLine(
      io,
      JSON.stringify({
        story: plan.story.name,
        sent: tally.sent,
        ok: tally.ok,
        failed,
        duplicates: tally.duplicates,
        durationMs: Math.round(durationMs),
      }),
    );
    return;
  }
  const chalk = colors(io);
  const duplicates = tally.duplicates > 0 ? `, ${tally.duplicates} duplicate${tally.duplicates === 1 ? '' : 's'}` : '';
  const words = `${tally.ok} of ${tally.sent} delivered${failed > 0 ? `, ${failed} failed` : ''} (${plan.events.length} ` +
    `events${duplicates}${plan.shuffle ? ', shuffled' : ''}, ${formatDuration(durationMs)})`;
  printLine(io, failed > 0 ? chalk.red(words) : chalk.green(words));
}
