import { open } from 'node:fs/promises';

/** fsync on a file or a folder: a new file's name is durable only once its folder is synced. */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
