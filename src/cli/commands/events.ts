import type { Command } from 'commander';
import { events } from '../../events/catalog.js';
import { colors } from '../colors.js';
import { printLine, type CliIO } from '../io.js';

export interface EventsOptions {
  json: boolean;
}

export function listEvents(options: EventsOptions, io: CliIO): void {
  if (options.json) {
    printLine(io, JSON.stringify(events.map(({ name, category, description }) => ({ name, category, description }))));
    return;
  }
  const c = colors(io);
  const width = Math.max(...events.map((e) => e.name.length));
  for (const category of ['message', 'server'] as const) {
    printLine(io, c.bold(`${category === 'message' ? 'Message' : 'Server'} events`));
    for (const e of events.filter((x) => x.category === category)) {
      printLine(io, `  ${c.cyan(e.name.padEnd(width))}  ${e.description}`);
    }
  }
}

export function register(command: Command, io: CliIO): void {
  command
    .option('--json', 'print a JSON array of {name, category, description}', false)
    .addHelpText('after', '\nExamples:\n  $ fe-webhooks events\n  $ fe-webhooks events --json | jq -r .[].name')
    .action((options: EventsOptions) => listEvents(options, io));
}
