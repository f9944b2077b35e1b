import { randomFillSync } from 'node:crypto';

/**
 * Random bytes for ids on hot paths, drawn from a pool refilled 4 KiB at a time: a
 * `randomBytes(8)` per request cost ~30 µs of listen's time under load (profiled),
 * one fill per 512 ids costs next to nothing. Not for secrets or tokens: those call
 * `randomBytes` directly.
 */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

export function pooledRandomBytes(length: number): Buffer {
  if (length > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(length));
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  // A copy: the pool is overwritten by the next fill.
  const bytes = Buffer.from(pool.subarray(offset, offset + length));
  offset += length;
  return bytes;
}
