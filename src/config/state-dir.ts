// fs.promises, a getter: node:fs/promises loads when a folder is made, not at start-up.
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The tool's per-project folder: local secret, captures, relay channel. */
export const STATE_DIR_NAME = '.fe-webhooks';

export function stateDir(cwd: string): string {
  return path.join(cwd, STATE_DIR_NAME);
}

/** Creates a folder (and its parents) readable by the owner only. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask and ignored for a folder that already exists.
  await fs.chmod(dir, 0o700);
  const state = enclosingStateDir(dir);
  if (state !== undefined) await ensureGitignore(state);
}

/** `.fe-webhooks` itself when `dir` is it or lies inside it (`.fe-webhooks/relay`). */
function enclosingStateDir(dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (path.basename(at) === STATE_DIR_NAME) return at;
    if (path.dirname(at) === at) return undefined;
  }
}

/**
 * The folder holds the dev secret, the channel token and captured bodies: a `.gitignore`
 * of `*` keeps all of it (itself included) out of git, as venv and pytest's cache do.
 * Also added to a folder made before this existed; a `.gitignore` already there, the
 * user's own, is never replaced.
 */
async function ensureGitignore(dir: string): Promise<void> {
  try {
    await fs.writeFile(path.join(dir, '.gitignore'), '# Made by fe-webhooks: local secrets and captures, never committed.\n*\n', {
      flag: 'wx',
      mode: 0o600,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
