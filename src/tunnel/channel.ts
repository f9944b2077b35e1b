import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { ensurePrivateDir, stateDir } from '../config/state-dir.js';
import { UserError, errorMessage } from '../errors.js';
import { CHANNEL_ID_PATTERN } from '../protocol/index.js';
import { debugSkipped } from '../util/debug.js';

/** A relay channel as the listener remembers it. The token is a credential: the file is 0600. */
export interface RelayChannel {
  relay: string;
  id: string;
  token: string;
  /** The public URL to paste into the FrontEngine portal. */
  url: string;
}

const CHANNEL_FILE = 'relay.json';
const CREATE_TIMEOUT_MS = 10_000;
/** A relay's refusal is shown as it is, if it is one short line. */
const MAX_REFUSAL_CHARS = 200;

export function channelFile(cwd: string): string {
  return path.join(stateDir(cwd), CHANNEL_FILE);
}

/** Where the listener keeps its delivery cursor for one channel. */
export function cursorFile(cwd: string, channelId: string): string {
  return path.join(stateDir(cwd), `relay-cursor-${channelId}`);
}

/** Where the listener keeps the retry schedule of one channel's stored events (retry-schedule.ts). */
export function retryJournalFile(cwd: string, channelId: string): string {
  return path.join(stateDir(cwd), `relay-retries-${channelId}.jsonl`);
}

/** The relay's base, without a trailing slash, so equal relays compare equal. */
export function relayKey(relayUrl: URL): string {
  return relayUrl.href.replace(/\/+$/, '');
}

export async function loadRemembered(cwd: string): Promise<RelayChannel | undefined> {
  let text: string;
  try {
    text = await readFile(channelFile(cwd), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`Cannot read ${channelFile(cwd)}: ${errorMessage(error)}`);
  }
  try {
    const value = JSON.parse(text) as Partial<RelayChannel>;
    if (
      typeof value.relay === 'string' &&
      typeof value.id === 'string' &&
      typeof value.token === 'string' &&
      typeof value.url === 'string'
    ) {
      return { relay: value.relay, id: value.id, token: value.token, url: value.url };
    }
  } catch (error) {
    debugSkipped('the saved channel (unreadable: a new one is created)', error);
    // Unreadable: treated as absent, and replaced by the channel created next.
  }
  return undefined;
}

/** Written whole or not at all: after a rotation the file holds the channel's only working token. */
export async function remember(cwd: string, channel: RelayChannel): Promise<void> {
  await ensurePrivateDir(stateDir(cwd));
  const temp = `${channelFile(cwd)}.tmp`;
  await writeFile(temp, `${JSON.stringify(channel, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, channelFile(cwd));
}

/** After the channel was deleted: the next `listen --relay` creates a new one. */
export async function forgetRemembered(cwd: string, channelId: string): Promise<void> {
  await rm(channelFile(cwd), { force: true });
  await rm(cursorFile(cwd, channelId), { force: true });
}

/** A relay's `{"error": ...}`, if it is one short line worth showing as it is. */
export function relayRefusal(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { error?: unknown };
    return typeof value.error === 'string' && value.error.length <= MAX_REFUSAL_CHARS
      ? value.error.replace(/[\x00-\x1f\x7f]/g, ' ')
      : undefined;
  } catch {
    return undefined;
  }
}

/** POST /channels on the relay. */
export async function createChannel(relayUrl: URL): Promise<RelayChannel> {
  const endpoint = new URL('channels', `${relayKey(relayUrl)}/`);
  let status: number;
  let text: string;
  try {
    const response = await request(endpoint, { method: 'POST', headersTimeout: CREATE_TIMEOUT_MS, bodyTimeout: CREATE_TIMEOUT_MS });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    throw new UserError(`Cannot reach the relay at ${relayUrl.origin}: ${errorMessage(error)}`);
  }
  let value: Partial<{ id: string; token: string; url: string }> = {};
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    // Checked below.
  }
  // The relay's own refusal (429: too many channels from this address; 503: it is full) says more than a guess.
  const refusal = status !== 201 ? relayRefusal(text) : undefined;
  if (refusal !== undefined) throw new UserError(`The relay at ${relayUrl.origin} refused a new channel (HTTP ${status}): ${refusal}`);
  if (
    status !== 201 ||
    typeof value.id !== 'string' ||
    !CHANNEL_ID_PATTERN.test(value.id) ||
    typeof value.token !== 'string' ||
    typeof value.url !== 'string'
  ) {
    throw new UserError(`The relay at ${relayUrl.origin} did not create a channel (HTTP ${status}); is it an fe-webhooks relay?`);
  }
  return { relay: relayKey(relayUrl), id: value.id, token: value.token, url: value.url };
}

export interface ChannelChoice {
  relayUrl: URL;
  cwd: string;
  channel?: string;
  token?: string;
}

/**
 * The channel `listen --relay` uses: the one given by flags, else the one remembered for
 * this relay (so the public URL never changes), else a new one, remembered at once.
 */
export async function resolveRelayChannel(choice: ChannelChoice): Promise<RelayChannel & { created: boolean }> {
  const relay = relayKey(choice.relayUrl);
  if ((choice.channel === undefined) !== (choice.token === undefined)) {
    throw new UserError('--channel and --token go together: give both, or neither to use the remembered (or a new) channel');
  }
  if (choice.channel !== undefined && choice.token !== undefined) {
    if (!CHANNEL_ID_PATTERN.test(choice.channel))
      throw new UserError(`Invalid --channel "${choice.channel}": expected the id the relay gave`);
    return { relay, id: choice.channel, token: choice.token, url: `${relay}/c/${choice.channel}`, created: false };
  }
  const remembered = await loadRemembered(choice.cwd);
  if (remembered && remembered.relay === relay) return { ...remembered, created: false };
  const created = await createChannel(choice.relayUrl);
  await remember(choice.cwd, created);
  return { ...created, created: true };
}
