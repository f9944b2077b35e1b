import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_OPEN_LOG_FILES } from './open-file-budget.js';

/**
 * How many file descriptors a relay needs, and what the OS lets it have. Channels cost
 * none by themselves: their log files share a bounded set (open-file-budget.ts). What
 * grows is connections: one per connected listener (one listener per channel at most)
 * and one per sender's connection.
 */

/** Node itself, stdio, the data folder's lock, the listening socket: with room to spare. */
export const PROCESS_RESERVE = 32;
/** Senders' connections one can expect at once (FrontEngine retries what is refused). */
export const SENDER_RESERVE = 64;

/** The soft RLIMIT_NOFILE from /proc/self/limits (Linux); undefined where it cannot be read or is unlimited. */
export function softOpenFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match || match[1] === 'unlimited') return undefined;
  return Number(match[1]);
}

/**
 * Descriptors for channel logs (each slot may briefly hold a second one: a folder fsync
 * when a segment starts), every channel's listener, senders, Redis connections and the process.
 */
export function descriptorsNeeded(options: { maxChannels: number; maxOpenLogFiles: number; storeConnections: number }): number {
  return 2 * options.maxOpenLogFiles + options.maxChannels + SENDER_RESERVE + options.storeConnections + PROCESS_RESERVE;
}

/**
 * Connections (listeners and senders together) the relay accepts at once under a soft
 * limit, so that a flood of connections is refused at the door instead of leaving no
 * descriptor for the log a 202 depends on.
 */
export function connectionsAllowed(softLimit: number, options: { maxOpenLogFiles: number; storeConnections: number }): number {
  return Math.max(16, softLimit - 2 * options.maxOpenLogFiles - options.storeConnections - PROCESS_RESERVE);
}

/** The log files' share under a small limit: an eighth of it (each may hold two), at most the default. */
export function logFilesWithin(softLimit: number | undefined): number {
  if (softLimit === undefined) return DEFAULT_MAX_OPEN_LOG_FILES;
  return Math.max(4, Math.min(DEFAULT_MAX_OPEN_LOG_FILES, Math.floor(softLimit / 8)));
}
