import { Argument, type Command, type Option } from 'commander';
import { EVENT_NAMES } from '../../events/catalog.js';
import {
  bashScript,
  fishScript,
  zshScript,
  type CompletionCommand,
  type CompletionSpec,
  type CompletionValue,
} from '../completion-scripts.js';
import { type CliIO } from '../io.js';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;
type Shell = keyof typeof SHELLS;

/** Flags whose value is an event name. */
const EVENT_FLAGS = new Set(['--event', '--expect']);
/** A value placeholder that names a file or folder: `<file>`, `<dir>` (not `<path=value>`: --set takes a JSON path). */
const FILE_VALUE = /<(file|dir)>/;
/** Positional arguments that are event names or files, by their name. */
const EVENT_ARGUMENT = /^events?$/;
const FILE_ARGUMENT = /^(file|files|dir)$/;

function optionValue(option: Option): CompletionValue {
  if (!option.required && !option.optional) return { kind: 'none' };
  if (option.argChoices) return { kind: 'choices', choices: option.argChoices };
  if (EVENT_FLAGS.has(option.long as string)) return { kind: 'event' };
  return FILE_VALUE.test(option.flags) ? { kind: 'file' } : { kind: 'other' };
}

function positionalValue(command: Command): CompletionValue {
  const first = command.registeredArguments[0];
  if (first === undefined) return { kind: 'none' };
  if (first.argChoices) return { kind: 'choices', choices: first.argChoices };
  if (EVENT_ARGUMENT.test(first.name())) return { kind: 'event' };
  return FILE_ARGUMENT.test(first.name()) ? { kind: 'file' } : { kind: 'other' };
}

function describe(command: Command): CompletionCommand {
  return {
    name: command.name(),
    description: command.description(),
    options: command.options
      .filter((o) => o.long !== undefined)
      .map((o) => ({ flag: o.long as string, description: o.description, value: optionValue(o) })),
    positional: positionalValue(command),
    subcommands: command.commands.map(describe),
  };
}

/** What the completion scripts need to know, read from the fully loaded program. */
export async function completionSpec(loadAllCommands: () => Promise<Command>): Promise<CompletionSpec> {
  const program = await loadAllCommands();
  return { commands: program.commands.map(describe), events: EVENT_NAMES };
}

// `loadAllCommands` comes from program.ts, which imports this module: taking it as an
// argument keeps the import one-way.
export function register(command: Command, io: CliIO, loadAllCommands: () => Promise<Command>): void {
  command
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(Object.keys(SHELLS)))
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks completion bash > ~/.local/share/bash-completion/completions/fe-webhooks\n' +
        '  $ source <(fe-webhooks completion bash)        # or this line in ~/.bashrc\n' +
        '  $ fe-webhooks completion zsh > "${fpath[1]}/_fe-webhooks"\n' +
        '  $ fe-webhooks completion fish > ~/.config/fish/completions/fe-webhooks.fish',
    )
    .action(async (shell: Shell) => {
      io.stdout.write(SHELLS[shell](await completionSpec(loadAllCommands)));
    });
}
