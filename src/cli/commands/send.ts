import { Option, type Command } from 'commander';
import type { CliIO } from '../io.js';
import type { SendCliOptions } from '../send/options.js';
import { collect, collectFieldOverride, durationArg, positiveIntArg, probabilityArg, seedArg } from '../parsers.js';
import { positiveNumberArg } from '../send/args.js';

const EXAMPLES = `
Examples:
  $ fe-webhooks send MessageBounced                                # to the local \`fe-webhooks listen\`
  $ fe-webhooks send MessageSent --url https://app.example.com/webhooks/email
  $ fe-webhooks send --all --url localhost:3000/webhooks --json
  $ fe-webhooks send MessageSent --url localhost:3000 --retry --time-scale 0.001
  $ fe-webhooks send MessageSent --url localhost:3000 --bad-signature
  $ fe-webhooks send MessageSent --url localhost:3000 --count 10000 --concurrency 50`;

export function register(command: Command, io: CliIO): void {
  command
    .argument('[event...]', 'event names, e.g. MessageBounced (case-insensitive; message.bounced works too)')
    .option('--all', 'send every event type')
    .option('--url <url>', 'target (localhost:3000/path shorthand allowed; default: config `url`, else the local `listen`)')
    .option('--secret <secret>', 'signing secret (default: $FE_WEBHOOKS_SECRET, the config file, or the local dev secret)')
    .option('--set <path=value>', 'set one field of the generated body (repeatable)', collectFieldOverride)
    .option('--data <file>', 'deep-merge this JSON document over the generated body')
    .option('--seed <n>', 'repeatable bodies: each event exactly as `generate <event> --seed n --compact` prints it', seedArg)
    .option('--body <file>', 'send these bytes verbatim (signed) instead of a generated body; - reads stdin')
    .option('--header <"Name: value">', 'add a request header (repeatable)', collect)
    .option(
      '--timeout <duration>',
      "a delivery fails without a complete 2xx within this (default 5s, FrontEngine's rule)",
      durationArg('--timeout'),
    )
    .option('--repeat <n>', 'send the same bytes and signature n times (idempotency drill)', positiveIntArg('--repeat'))
    .option('--retry', "retry failed deliveries on FrontEngine's schedule (1 min, 5 min, 30 min, 2 h, 12 h)")
    .option('--time-scale <factor>', 'multiply the retry waits (0.001 makes 1 min 60 ms)', positiveNumberArg('--time-scale'))
    .option('--bad-signature', 'send forged signatures; passes only if the endpoint answers each with 4xx')
    .addOption(new Option('--count <n>', 'load mode: send n unique events').argParser(positiveIntArg('--count')))
    .addOption(
      new Option('--concurrency <c>', 'load mode: connections (and requests in flight); default 10').argParser(
        positiveIntArg('--concurrency'),
      ),
    )
    .addOption(new Option('--rate <r>', 'load mode: at most r requests per second').argParser(positiveNumberArg('--rate')))
    .addOption(
      new Option('--duplicates <p>', 'load mode: send each event again with probability p (same bytes and signature)').argParser(
        probabilityArg('--duplicates'),
      ),
    )
    .option('--insecure', 'allow plain http to non-loopback hosts and untrusted (self-signed) certificates')
    .option('--dry-run', 'print the request and a ready curl command; send nothing')
    .option('--json', 'one JSON object per delivery, then a summary object')
    .addHelpText('after', EXAMPLES)
    .action(async (events: string[], options: SendCliOptions) => {
      const { sendCommand } = await import('../send/action.js');
      await sendCommand(events, options, io);
    });
}
