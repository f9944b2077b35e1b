import { resolveSigningSecret } from '../../config/secret.js';
import { UserError } from '../../errors.js';
import { composeStory, type StoryEvent } from '../../scenario/compose-story.js';
import type { Story } from '../../scenario/story.js';
import { assertDeliverableUrl } from '../../util/url.js';
import type { ScenarioCliOptions } from '../commands/scenario.js';
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

/** Reads the story, composes every event (bad references fail here) and resolves the target: bad input never half-sends. */
export async function resolveScenarioPlan(input: string | undefined, options: ScenarioCliOptions, io: CliIO): Promise<ScenarioPlan> {
  if (input === undefined) throw new UserError('Name a story (e.g. fe-webhooks scenario bounced) or a story file; --list shows the built-in ones');
  const story = await loadStory(input, io);
  const events = composeStory(story, { seed: options.seed });
  const { url, isDefault, timeoutMs } = await resolveDeliveryTarget({ flag: options.url, flagName: '--url', settings: ['url'], timeoutMs: options.timeout }, io);
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
