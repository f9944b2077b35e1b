import { Command } from 'commander';
import { enableDebug } from '../util/debug.js';
import { printableSnippet } from '../util/printable.js';
import { preloadColors } from './colors.js';
import type { CliIO } from './io.js';
import { packageVersion } from './version.js';

/** Commander's error text, line by line, made printable (its lines start with `error:` or help text). */
function printableLines(text: string): string {
  return text
    .split('\n')
    .map((line) => printableSnippet(line, Number.POSITIVE_INFINITY))
    .join('\n');
}

/**
 * A command module configures the command it is given (arguments, options, action).
 * `loadAllCommands` builds the whole program, every command loaded (the completion
 * scripts describe it all), without the module importing this file back.
 */
export interface CommandModule {
  register(command: Command, io: CliIO, loadAllCommands: () => Promise<Command>): void;
}

interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<CommandModule>;
}

/**
 * Every command, in help order. Only the module of the command being run is imported:
 * the others are registered by name and summary alone, which is all that help and
 * "did you mean" need, and keeps start-up close to bare Node.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'events', summary: 'list every FrontEngine event type, its category and trigger', load: () => import('./commands/events.js') },
  { name: 'generate', summary: 'print a realistic sample request body for one event', load: () => import('./commands/generate.js') },
  { name: 'sign', summary: 'print the X-Webhook-Signature value for some bytes', load: () => import('./commands/sign.js') },
  { name: 'send', summary: 'generate, sign and POST events to a URL, as FrontEngine would', load: () => import('./commands/send.js') },
  {
    name: 'scenario',
    summary: 'send a coherent story of events (a message sent, then bounced…) or a story file; at-least-once drills',
    load: () => import('./commands/scenario.js'),
  },
  {
    name: 'verify',
    summary: 'check captured requests in CI: signature, schema, age, expected events',
    load: () => import('./commands/verify.js'),
  },
  { name: 'replay', summary: 're-send captured requests byte for byte (signature included)', load: () => import('./commands/replay.js') },
  {
    name: 'check',
    summary: 'conformance drill of a live endpoint: valid, forged and repeated deliveries',
    load: () => import('./commands/check.js'),
  },
  {
    name: 'listen',
    summary: 'receive webhooks locally: capture them, forward them byte for byte to your app, inspect them in the browser',
    load: () => import('./commands/listen.js'),
  },
  { name: 'captures', summary: 'work with the requests listen captured (export as HAR 1.2)', load: () => import('./commands/captures.js') },
  {
    name: 'relay',
    summary: 'run the public end of the tunnel: stores every request per channel and streams it to `listen --relay`',
    load: () => import('./commands/relay.js'),
  },
  {
    name: 'channel',
    summary: 'rotate the token of a relay channel (the old one stops working at once) or delete the channel',
    load: () => import('./commands/channel.js'),
  },
  { name: 'config', summary: 'print the effective settings and where each came from', load: () => import('./commands/config.js') },
  { name: 'completion', summary: 'print a shell completion script (bash, zsh or fish)', load: () => import('./commands/completion.js') },
];

/** The command a command line runs: its first word that is not an option (`help X` runs X's help). */
export function commandNameOf(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * The commander program: flags and help only, no work. `args` picks the one command
 * module to load; `loadAll` loads every one (for completion scripts and help tests).
 */
export async function createProgram(io: CliIO, args: readonly string[], loadAll = false): Promise<Command> {
  const program = new Command()
    .name('fe-webhooks')
    .description('Generate, send, receive, tunnel and verify FrontEngine webhooks.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .option('--no-color', 'no colours, even on a terminal')
    .option('--debug', 'print debug lines on stderr (skipped errors and why), as NODE_DEBUG=fe-webhooks does')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander quotes the unknown option or command it was given: each line escaped.
      writeErr: (text) => io.stderr.write(printableLines(text)),
    })
    .addHelpText(
      'after',
      "\nThe whole local loop:\n  $ fe-webhooks listen --forward localhost:3000   # terminal 1\n" +
        "  $ fe-webhooks send MessageBounced               # terminal 2\n\n" +
        "Run `fe-webhooks <command> --help` for a command's flags and examples.",
    );
  program.hook('preAction', async (thisCommand) => {
    const global = thisCommand.opts<{ color?: boolean; debug?: boolean }>();
    if (global.color === false) io.noColor = true;
    if (global.debug) enableDebug();
    await preloadColors(io);
  });
  const wanted = commandNameOf(args);
  for (const entry of COMMANDS) {
    const command = program.command(entry.name).description(entry.summary);
    if (loadAll || entry.name === wanted) (await entry.load()).register(command, io, () => createProgram(io, [], true));
    command.exitOverride().showSuggestionAfterError(true).configureOutput(program.configureOutput());
  }
  return program;
}
