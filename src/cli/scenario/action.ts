import { UserError } from '../../errors.js';
import { BUILTIN_STORIES } from '../../scenario/builtin.js';
import type { ScenarioCliOptions } from './options.js';
import { colors } from '../colors.js';
import { printLine, type CliIO } from '../io.js';
import { resolveScenarioPlan } from './plan.js';

/** `--list`: one line per built-in story (a JSON array with --json). */
function printStoryList(io: CliIO, json: boolean): void {
  if (json) {
    const described = BUILTIN_STORIES.map((s) => ({
      name: s.name,
      summary: s.summary,
      events: s.steps.flatMap((step) => Array<string>(step.repeat).fill(step.event)),
      // The names `--set <step>.<path>=value` takes.
      steps: s.steps.map((step) => step.name),
    }));
    printLine(io, JSON.stringify(described));
    return;
  }
  const width = Math.max(...BUILTIN_STORIES.map((s) => s.name.length));
  for (const story of BUILTIN_STORIES) printLine(io, `${colors(io).bold(story.name.padEnd(width))}  ${story.summary}`);
}

/** `fe-webhooks scenario`: list the stories, or compose one and deliver it. */
export async function scenarioCommand(input: string | undefined, options: ScenarioCliOptions, io: CliIO): Promise<void> {
  if (options.list) {
    if (input !== undefined) throw new UserError('--list takes no story');
    printStoryList(io, options.json ?? false);
    return;
  }
  const plan = await resolveScenarioPlan(input, options, io);
  await (await import('./deliver-story.js')).deliverStory(plan, io);
}
