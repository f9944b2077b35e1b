import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { resolveSigningSecret } from '../../config/secret.js';
import { sign } from '../../signing/index.js';
import { readBytes } from '../inputs.js';
import { printLine, type CliIO } from '../io.js';

export interface SignCliOptions {
  secret?: string;
}

/** Prints `sha256=<hex>` for the exact bytes of a file or stdin. */
export async function signCommand(file: string | undefined, options: SignCliOptions, io: CliIO): Promise<void> {
  if (file === undefined && io.stdin.isTTY) {
    throw new UserError('Nothing to sign: give a file, or pipe the body in (e.g. fe-webhooks generate MessageSent | fe-webhooks sign)');
  }
  const bytes = await readBytes(file ?? '-', io);
  const { secret } = await resolveSigningSecret({ flag: options.secret, env: io.env, cwd: io.cwd });
  printLine(io, sign(bytes, secret));
}

export function register(command: Command, io: CliIO): void {
  command
    .argument('[file]', 'the body to sign; - or nothing reads stdin')
    .option('--secret <secret>', 'signing secret (default: $FE_WEBHOOKS_SECRET, the config file, or the local dev secret)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks sign body.json --secret "$WEBHOOK_SECRET"\n  $ fe-webhooks generate MessageSent | fe-webhooks sign',
    )
    .action((file: string | undefined, options: SignCliOptions) => signCommand(file, options, io));
}
