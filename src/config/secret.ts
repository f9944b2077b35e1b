// No node:crypto or node:fs/promises at the top: most commands import this module, and
// loading those two costs ~7% of bare Node's start-up, which --help would pay for nothing.
// fs.promises is a getter that loads the promises API on first use; the Web Crypto
// global loads only when a new secret is made.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.js';
import { resolveSetting } from './settings.js';
import { ensurePrivateDir, stateDir } from './state-dir.js';
import { skipped } from '../util/debug.js';

export type SecretSource = 'flag' | 'env' | 'config' | 'local';

export interface ResolvedSecret {
  secret: string;
  source: SecretSource;
  /** True when the local development secret was created by this very call. */
  created: boolean;
}

export interface SecretQuery {
  /** `--secret`, when given. */
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** Create the local development secret when nothing else supplies one (commands that sign). */
  createLocal: boolean;
}

/** Where the local development secret lives. */
export function localSecretPath(cwd: string): string {
  return path.join(stateDir(cwd), 'secret');
}

/** A secret that looks like one: a prefix says where it came from, 32 random bytes make it. */
function newLocalSecret(): string {
  return `fe_dev_${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`;
}

/** The local development secret in `file`, or undefined when there is none yet. */
export async function readLocalSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = (await fs.readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`Cannot read the local secret ${file}: ${reason(error)}`);
  }
  // Signing with "" would make signatures that no receiver shares: never use an empty one.
  if (text === '') throw new UserError(`The local secret ${file} is empty: delete it to make a new one, or pass --secret`);
  return text;
}

/** Why a folder or file could not be made, in a few words. */
function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the disk';
  return errorMessage(error);
}

/** Puts `temporary` at `file` unless `file` exists (EEXIST); 'wx' where hard links are not supported. */
async function placeOnce(temporary: string, file: string, secret: string): Promise<void> {
  try {
    await fs.link(temporary, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    await fs.writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  }
}

async function createLocalSecret(cwd: string): Promise<{ secret: string; created: boolean }> {
  const file = localSecretPath(cwd);
  const secret = newLocalSecret();
  // Written whole to a private temporary name, then linked into place: link() fails when
  // the file exists, so two commands started together agree on one secret, and neither
  // ever reads a half-written (empty) one.
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await ensurePrivateDir(path.dirname(file));
    await fs.writeFile(temporary, `${secret}\n`, { mode: 0o600 });
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(skipped('removing the temporary secret file'));
    throw new UserError(
      `No signing secret: pass --secret or set FE_WEBHOOKS_SECRET (the local development secret cannot be made in ` +
        `${path.dirname(file)}: ${reason(error)})`,
    );
  }
  try {
    await placeOnce(temporary, file, secret);
    return { secret, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new UserError(`Cannot write the local secret ${file}: ${reason(error)}`);
    }
    const existing = await readLocalSecret(file);
    if (!existing) throw new UserError(`The local secret ${file} vanished while it was read: run the command again`);
    return { secret: existing, created: false };
  } finally {
    await fs.rm(temporary, { force: true }).catch(skipped('removing the temporary secret file'));
  }
}

/**
 * The signing secret: `--secret`, else FE_WEBHOOKS_SECRET, else the config file, else
 * the local development secret in .fe-webhooks/secret (made on first use when
 * `createLocal`). Undefined only when nothing has one and `createLocal` is false.
 */
export async function resolveSecret(query: SecretQuery): Promise<ResolvedSecret | undefined> {
  if (query.flag !== undefined && query.flag.trim() === '') throw new UserError('--secret must not be empty');
  const configured = await resolveSetting('secret', { cwd: query.cwd, env: query.env ?? process.env, flag: query.flag });
  if (configured && configured.source !== 'default') return { secret: configured.value, source: configured.source, created: false };
  const local = await readLocalSecret(localSecretPath(query.cwd));
  if (local) return { secret: local, source: 'local', created: false };
  if (!query.createLocal) return undefined;
  const made = await createLocalSecret(query.cwd);
  return { secret: made.secret, source: 'local', created: made.created };
}

/** The secret for a command that signs: never undefined, making the local one if needed. */
export async function resolveSigningSecret(query: Omit<SecretQuery, 'createLocal'>): Promise<ResolvedSecret> {
  return (await resolveSecret({ ...query, createLocal: true })) as ResolvedSecret;
}
