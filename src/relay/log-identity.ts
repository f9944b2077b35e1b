import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { LOG_ID_PATTERN } from '../protocol/index.js';
import { fsyncPath } from './fsync.js';

/** 96 random bits: two logs never share one by chance. */
const LOG_ID_BYTES = 12;
const LOG_ID_FILE = 'log-id';

/** A new channel log's identity (base64url). */
export function newLogId(): string {
  return randomBytes(LOG_ID_BYTES).toString('base64url');
}

/**
 * The identity of the log in a channel folder, made at random the first time the log is
 * opened (a folder from before identities gets one then) and durable before it is used:
 * a listener's cursor is tied to it. A restored copy of the folder keeps its identity;
 * a log made anew (its folder emptied) gets another one.
 */
export async function loadLogId(dir: string): Promise<string> {
  const file = path.join(dir, LOG_ID_FILE);
  const stored = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (LOG_ID_PATTERN.test(stored)) return stored;
  const id = newLogId();
  const handle = await open(`${file}.tmp`, 'w', 0o600);
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(`${file}.tmp`, file);
  await fsyncPath(dir);
  return id;
}
