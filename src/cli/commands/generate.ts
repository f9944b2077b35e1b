import type { Command } from 'commander';
import { composeBody } from '../../events/compose.js';
import { resolveEventName } from '../../events/names.js';
import type { FieldOverride } from '../../events/overrides.js';
import { readJsonObjectFile } from '../inputs.js';
import { printLine, type CliIO } from '../io.js';
import { warnAboutChanges } from '../schema-warnings.js';
import { collectFieldOverride, seedArg } from '../parsers.js';

export interface GenerateCliOptions {
  set?: FieldOverride[];
  data?: string;
  seed?: number;
  compact: boolean;
}

/** Prints one sample body; warns on stderr when the user's changes broke the schema. */
export async function generateCommand(eventInput: string, options: GenerateCliOptions, io: CliIO): Promise<void> {
  const event = resolveEventName(eventInput);
  const partial = options.data !== undefined ? await readJsonObjectFile(options.data, io) : undefined;
  const composed = composeBody(event, { seed: options.seed, partial, overrides: options.set, compact: options.compact });
  warnAboutChanges(io, event, { violations: composed.violations, partial, overrides: options.set });
  printLine(io, composed.body);
}

export function register(command: Command, io: CliIO): void {
  command
    .argument('<event>', 'event name, e.g. MessageBounced (case-insensitive; message.bounced works too)')
    .option('--set <path=value>', 'set one field; the value is parsed as JSON when it parses (repeatable)', collectFieldOverride)
    .option('--data <file>', 'deep-merge this JSON document over the sample')
    .option('--seed <n>', 'make the sample repeatable byte for byte', seedArg)
    .option('--compact', 'print the body on one line', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks generate MessageBounced\n' +
        '  $ fe-webhooks generate message.sent --set payload.message.to=ana@example.com --seed 42',
    )
    .action((event: string, options: GenerateCliOptions) => generateCommand(event, options, io));
}
