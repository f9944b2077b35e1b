/**
 * Bounds on channel creation. Anyone may POST /channels (as on smee.io), so without
 * these a hostile client could fill the relay's disk (or Redis) with channels.
 * Kept apart from server.ts so the CLI reads the defaults without loading the server.
 */

/** How the relay limits channel creation per client address. */
export interface CreationLimit {
  /** Channels an address may create at once. */
  burst: number;
  /** Then one more per this many ms. */
  refillMs: number;
  /** Addresses tracked at most: memory stays bounded whatever the number of clients. */
  maxAddresses: number;
}

/** Enough for a team's relay; each channel costs a folder (or a Redis hash) until an operator removes it. */
export const DEFAULT_MAX_CHANNELS = 10_000;

/** A burst of 10 channels per address, then one every 6 s; 10,000 addresses tracked at most. */
export const DEFAULT_CREATION_LIMIT: CreationLimit = { burst: 10, refillMs: 6_000, maxAddresses: 10_000 };
