import { Argument, type Command } from 'commander';
import type { CliIO } from '../io.js';
import { CHANNEL_ACTIONS, type ChannelAction, type ChannelCliOptions } from './channel-options.js';
import { durationArg, positiveIntArg } from '../parsers.js';

// The action (and undici, the relay client) loads only when the command runs: --help stays light.
export function register(command: Command, io: CliIO): void {
  command
    .addArgument(
      new Argument(
        '<action>',
        'rotate-token: a new token, the old one stops working at once; delete: the channel and its stored events; respond: what senders ' +
          'get while no listener is connected',
      ).choices(CHANNEL_ACTIONS),
    )
    .option('--relay <url>', 'the relay (default: the one in .fe-webhooks/relay.json; config "relay")')
    .option('--channel <id>', 'the channel (default: the one in .fe-webhooks/relay.json; with --token)')
    .option('--token <token>', 'the channel\'s current token')
    .option('--json', 'one JSON object on stdout', false)
    .option('--status <code>', 'respond: the status while no listener is connected (default 202)', positiveIntArg('--status'))
    .option('--delay <duration>', 'respond: wait this long before answering, at most 10s (e.g. 2s)', durationArg('--delay'))
    .option('--body <text>', 'respond: the answer body (default empty)')
    .option('--content-type <type>', 'respond: the answer\'s content type (default application/json)')
    .option('--reset', 'respond: back to the default, 202 queued', false)
    .addHelpText(
      'after',
      `\nThe channel is the one \`listen --relay\` saved in .fe-webhooks/relay.json, unless --channel and --token name another.
rotate-token saves the new token there (and prints it only when it is not saved); delete removes the saved channel.

Examples:
  $ fe-webhooks channel rotate-token            # the token leaked: the old one stops working now
  $ fe-webhooks channel delete                  # done with it: its URL answers 404 from now on
  $ fe-webhooks channel respond --status 500 --delay 2s   # drill the sender's retries while nobody listens
  $ fe-webhooks channel respond --reset         # back to 202 queued
  $ fe-webhooks channel rotate-token --relay https://hooks.example.com --channel J13d2kDdUMyu7TIiZaJDjaRZ --token "$OLD_TOKEN" --json`,
    )
    .action((action: ChannelAction, options: ChannelCliOptions) =>
      import('./channel-action.js').then((loaded) => loaded.channelCommand(action, options, io)),
    );
}
