import { Command } from 'commander';
import type { CliIO } from './io.js';
import { packageVersion } from './version.js';
import { register as registerEvents } from './commands/events.js';
import { register as registerGenerate } from './commands/generate.js';
import { register as registerSign } from './commands/sign.js';
import { register as registerListen } from './commands/listen.js';
import { register as registerCaptures } from './commands/captures.js';
import { register as registerRelay } from './commands/relay.js';

/** Every command's registration; each wires its flags and lazy-loads its work. */
const COMMANDS: Array<(program: Command, io: CliIO) => void> = [registerEvents, registerGenerate, registerSign, registerListen, registerCaptures, registerRelay];

/** The commander program: flags and help only, no work. */
export function createProgram(io: CliIO): Command {
  const program = new Command()
    .name('fe-webhooks')
    .description('Generate, send, receive, tunnel and verify FrontEngine webhooks.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .option('--no-color', 'no colours, even on a terminal')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .addHelpText(
      'after',
      '\nThe whole local loop:\n  $ fe-webhooks listen --forward localhost:3000   # terminal 1\n  $ fe-webhooks send MessageBounced               # terminal 2',
    );
  program.hook('preAction', (thisCommand) => {
    if (thisCommand.opts<{ color?: boolean }>().color === false) io.noColor = true;
  });
  for (const register of COMMANDS) register(program, io);
  for (const command of program.commands) {
    command.exitOverride().showSuggestionAfterError(true);
    command.configureOutput(program.configureOutput());
  }
  return program;
}
