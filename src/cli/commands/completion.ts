import { Argument, type Command, type Option } from 'commander';
import { EVENT_NAMES } from '../../events/catalog.js';
import { bashScript, fishScript, zshScript, type CompletionCommand, type CompletionSpec } from '../completion-scripts.js';
import { type CliIO } from '../io.js';
import { createProgram } from '../program.js';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;
type Shell = keyof typeof SHELLS;

/** Flags whose value is an event name. */
const EVENT_FLAGS = new Set(['--event', '--expect']);
/** A value placeholder that names a file or folder: `<file>`, `<dir>`, `<captures.jsonl>`. */
const FILE_VALUE = /<[^>]*(file|dir|path|\.json|\.jsonl|\.har|cert|key)[^>]*>/i;

function valueKind(option: Option): CompletionCommand['options'][number]['value'] {
  if (!option.required && !option.optional) return 'none';
  if (EVENT_FLAGS.has(option.long as string)) return 'event';
  return FILE_VALUE.test(option.flags) ? 'file' : 'other';
}

/** What the completion scripts need to know, read from the fully loaded program. */
export async function completionSpec(io: CliIO): Promise<CompletionSpec> {
  const program = await createProgram(io, [], true);
  const commands: CompletionCommand[] = program.commands.map((command) => ({
    name: command.name(),
    description: command.description(),
    options: command.options
      .filter((o) => o.long !== undefined)
      .map((o) => ({ flag: o.long as string, description: o.description, value: valueKind(o) })),
    eventArgs: /^events?$/.test(command.registeredArguments[0]?.name() ?? ''),
    ...(command.registeredArguments[0]?.argChoices ? { choices: command.registeredArguments[0].argChoices } : {}),
  }));
  return { commands, events: EVENT_NAMES };
}

export function register(command: Command, io: CliIO): void {
  command
    .addArgument(new Argument('<shell>', 'the shell to complete for').choices(Object.keys(SHELLS)))
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks completion bash > ~/.local/share/bash-completion/completions/fe-webhooks\n  $ source <(fe-webhooks completion bash)        # or this line in ~/.bashrc\n  $ fe-webhooks completion zsh > "${fpath[1]}/_fe-webhooks"\n  $ fe-webhooks completion fish > ~/.config/fish/completions/fe-webhooks.fish',
    )
    .action(async (shell: Shell) => {
      io.stdout.write(SHELLS[shell](await completionSpec(io)));
    });
}
