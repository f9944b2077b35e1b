import type { Revocation } from './store.js';
import { debugSkipped } from '../util/debug.js';

/**
 * Token rotation and channel deletion on Redis, and how every instance hears of them:
 * one topic for all channels (they are rare), so an instance learns of a channel it has
 * never opened too.
 */
export const REVOCATIONS_TOPIC = 'fe-webhooks:revocations';

/** Compare-and-set of the token hash: 1 replaced, 0 unknown channel, -1 another rotation came first. */
export const ROTATE_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'tokenHash')
if not current then return 0 end
if current ~= ARGV[1] then return -1 end
redis.call('HSET', KEYS[1], 'tokenHash', ARGV[2])
return 1
`;

/** Every key of the channel in one step (KEYS[1] is its record, then seq, log, acked, listener): 1 deleted, 0 unknown. */
export const DELETE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', unpack(KEYS))
return 1
`;

export interface AdminCommands {
  feRotate(recordKey: string, fromHash: string, toHash: string): Promise<number>;
  /** KEYS: the channel record first (no record: nothing is deleted, 0), then every other key of the channel. */
  feDelete(recordKey: string, ...otherKeys: string[]): Promise<number>;
}

export function encodeRevocation(channel: string, revocation: Revocation): string {
  return JSON.stringify({ channel, revocation });
}

export function decodeRevocation(text: string): { channel: string; revocation: Revocation } | undefined {
  try {
    const value = JSON.parse(text) as { channel?: unknown; revocation?: unknown };
    if (typeof value.channel !== 'string') return undefined;
    if (value.revocation !== 'token-rotated' && value.revocation !== 'channel-deleted') return undefined;
    return { channel: value.channel, revocation: value.revocation };
  } catch (error) {
    debugSkipped('a revocation message that does not parse', error);
    return undefined;
  }
}
