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
}
