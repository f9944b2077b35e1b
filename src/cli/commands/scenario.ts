import { Argument, Option, type Command } from 'commander';
import { BUILTIN_STORY_NAMES } from '../../scenario/builtin.js';
import type { CliIO } from '../io.js';
import type { ScenarioCliOptions } from '../scenario/options.js';
import { collectFieldOverride, durationArg, probabilityArg, seedArg } from '../parsers.js';

const EXAMPLES = `
Examples:
  $ fe-webhooks scenario --list
  $ fe-webhooks scenario bounced --url localhost:3000/webhooks/email
  $ fe-webhooks scenario bounced --set sent.payload.message.to=ana@example.com --url localhost:3000
  $ fe-webhooks scenario delayed-then-failed --url localhost:3000 --duplicates 0.5 --shuffle --seed 7
  $ fe-webhooks scenario fixtures/scenarios/bounce-lookup.json --url localhost:3000 --json`;

export function register(command: Command, io: CliIO): void {
  const story = new Argument('[story]', 'a built-in story (see --list) or a story file (.json, .yaml)');
  // Offered by shell completion, not enforced: a file name is as good as a story name.
  story.argChoices = [...BUILTIN_STORY_NAMES];
  command
    .addArgument(story)
    .option('--list', 'list the built-in stories, one line each')
    .option(
      '--set <step.path=value>',
      'set one field of one step, e.g. sent.payload.message.to=ana@example.com (later steps follow; repeatable)',
      collectFieldOverride,
    )
    .option('--url <url>', 'target (localhost:3000/path shorthand allowed; default: config `url`, else the local `listen`)')
    .option('--secret <secret>', 'signing secret (default: $FE_WEBHOOKS_SECRET, the config file, or the local dev secret)')
    .option(
      '--timeout <duration>',
      "a delivery fails without a complete 2xx within this (default 5s, FrontEngine's rule)",
      durationArg('--timeout'),
    )
    .option('--interval <duration>', 'wait this long between deliveries (default 0)', durationArg('--interval'))
    .option('--seed <n>', 'make the story (ids, times, drill choices) repeatable byte for byte', seedArg)
    .addOption(
      new Option('--duplicates <p>', 'send each delivery again with probability p (same bytes and signature)').argParser(
        probabilityArg('--duplicates'),
      ),
    )
    .option('--shuffle', "deliver the story's events in a random order")
    .option('--insecure', 'allow plain http to non-loopback hosts and untrusted (self-signed) certificates')
    .option('--json', 'one JSON object per delivery (with its place in the story and whether it is a duplicate), then a summary')
    .addHelpText('after', EXAMPLES)
    .action(async (storyName: string | undefined, options: ScenarioCliOptions) => {
      const { scenarioCommand } = await import('../scenario/action.js');
      await scenarioCommand(storyName, options, io);
    });
}
