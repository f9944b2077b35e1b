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

/** Where the next `length` bytes start in the pool, refilling it when they do not fit. */
function take(length: number): number {
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += length;
  return start;
}

export function pooledRandomBytes(length: number): Buffer {
  if (length > POOL_BYTES) return randomFillSync(Buffer.allocUnsafe(length));
  const start = take(length);
  // A copy: the pool is overwritten by the next fill.
  return Buffer.from(pool.subarray(start, start + length));
}

/** `length` random bytes as hex, read straight from the pool (no Buffer per call). */
export function pooledRandomHex(length: number): string {
  if (length > POOL_BYTES) return pooledRandomBytes(length).toString('hex');
  const start = take(length);
  return pool.toString('hex', start, start + length);
}
