import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/**
 * A small real filesystem (tmpfs, needs root) at `<root>/<name>`, for disk-full cases.
 * Unmounted, then its folder removed, when the test ends: one hook, so the order holds.
 */
export async function mountSmallDisk(t: TestContext, sizeKiB: number, name = 'small'): Promise<{ root: string; dir: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'fe-webhooks-disk-'));
  const dir = path.join(root, name);
  await mkdir(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  t.after(async () => {
    execFileSync('umount', ['-l', dir]);
    await rm(root, { recursive: true, force: true });
  });
  return { root, dir };
}
