import { resolveSigningSecret } from '../../config/secret.js';
import { UserError } from '../../errors.js';
import { composeStory, type StoryEvent } from '../../scenario/compose-story.js';
import type { FieldOverride } from '../../events/overrides.js';
import type { Story } from '../../scenario/story.js';
import { assertDeliverableUrl } from '../../util/url.js';
import type { ScenarioCliOptions } from './options.js';
import type { CliIO } from '../io.js';
import { resolveDeliveryTarget } from '../targets.js';
import { packageVersion } from '../version.js';
import { loadStory } from './load-story.js';

/** Everything `scenario` needs, validated and composed: nothing below this reads flags or files. */
export interface ScenarioPlan {
  story: Story;
  /** The story's events in story order, bodies composed. */
  events: StoryEvent[];
  url: URL;
  urlIsDefault: boolean;
  secret: string;
  userAgent: string;
  timeoutMs: number;
  insecure: boolean;
  intervalMs: number;
  duplicates: number;
  shuffle: boolean;
  seed?: number;
  json: boolean;
}

/**
 * The story with `--set step.path=value` added to its steps (after the step's own
 * `set`): as Stripe's `trigger --override`, a tweak without writing a file.
 */
function withOverrides(story: Story, overrides: readonly FieldOverride[]): Story {
  if (overrides.length === 0) return story;
  const steps = story.steps.map((step) => ({ ...step, set: [...step.set] }));
  const names = steps.flatMap((step) => (step.name === undefined ? [] : [step.name]));
  for (const { path, value } of overrides) {
    const [name = '', ...field] = path;
    const step = steps.find((s) => s.name === name);
    if (!step || field.length === 0) {
      const choices = names.length > 0 ? `one of ${names.join(', ')}` : 'none: its steps have no names';
      throw new UserError(
        `Invalid --set "${path.join('.')}": expected <step>.<path>=value, where <step> is a step of ${story.name} (${choices})`,
      );
    }
    step.set.push({ path: field, value });
  }
  return { ...story, steps };
}

/** Reads the story, composes every event (bad references fail here) and resolves the target: bad input never half-sends. */
export async function resolveScenarioPlan(input: string | undefined, options: ScenarioCliOptions, io: CliIO): Promise<ScenarioPlan> {
  if (input === undefined)
    throw new UserError('Name a story (e.g. fe-webhooks scenario bounced) or a story file; --list shows the built-in ones');
  const story = withOverrides(await loadStory(input, io), options.set ?? []);
  const events = composeStory(story, { seed: options.seed });
  const { url, isDefault, timeoutMs } = await resolveDeliveryTarget(
    { flag: options.url, flagName: '--url', settings: ['url'], timeoutMs: options.timeout },
    io,
  );
  assertDeliverableUrl(url, options.insecure ?? false);
  const { secret } = await resolveSigningSecret({ flag: options.secret, env: io.env, cwd: io.cwd });
  return {
    story,
    events,
    url,
    urlIsDefault: isDefault,
    secret,
    userAgent: `fe-webhooks/${packageVersion()}`,
    timeoutMs,
    insecure: options.insecure ?? false,
    intervalMs: options.interval ?? 0,
    duplicates: options.duplicates ?? 0,
    shuffle: options.shuffle ?? false,
    seed: options.seed,
    json: options.json ?? false,
  };
}
