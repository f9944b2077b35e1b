import path from 'node:path';
import { UserError } from '../errors.js';
import { FRONTENGINE_RETRY_DELAYS_MS } from '../config/defaults.js';
import { resolveRelayChannel, cursorFile, retryJournalFile } from '../tunnel/channel.js';
import type { RetryStatus } from '../tunnel/retry-schedule.js';
import { printableSnippet } from '../util/printable.js';
import { isLocalDestination, parseTargetUrl } from '../util/url.js';
import type { TunnelHandler, TunnelStatus } from '../tunnel/client.js';
import { colors } from './colors.js';
import { logLine, type CliIO } from './io.js';
import { formatDuration } from '../util/duration.js';

/** Seconds with one fixed decimal: reconnect and retry countdowns, late answers. */
const seconds = (ms: number): string => formatDuration(ms, { unit: 's', decimals: 1, fixed: true });

/** How long listen waits for the relay before it says ready anyway. */
const FIRST_CONNECT_GRACE_MS = 3_000;
/** A status line past this is cut. */
const STATUS_LINE_MAX_CHARS = 300;

export interface RelayLinkOptions {
  relayUrl: URL;
  /** Other instances of the same relay (one Redis), used when relayUrl cannot be reached. */
  fallbackUrls?: URL[];
  channel?: string;
  token?: string;
  handler: TunnelHandler;
  io: CliIO;
  /** Deliveries in flight at once (1: strictly in order). */
  concurrency?: number;
  /** Multiplies FrontEngine's retry waits for stored events (`--retry-scale`; default 1). */
  retryScale?: number;
  /** FrontEngine's budget (`--timeout`): after it, a live event's sender has 504 and the next event may start. */
  answerBudgetMs?: number;
}

export interface RelayLink {
  /** The public URL to paste into the FrontEngine portal. */
  publicUrl: string;
  channel: string;
  /** True when this run created the channel (and remembered it). */
  created: boolean;
  /** Rejects with TunnelAuthError (exit 2) when the relay refuses the channel. */
  done: Promise<void>;
  close(): Promise<void>;
}

function describe(status: TunnelStatus): string | undefined {
  switch (status.state) {
    case 'connecting':
      return status.attempt === 0 ? 'relay: connecting…' : undefined;
    case 'connected':
      return `relay: connected, delivering after #${status.after} (newest #${status.head})`;
    case 'reconnecting':
      return `relay: ${status.reason}; reconnecting in ${seconds(status.delayMs)} (attempt ${status.attempt})…`;
    case 'cursor-reset':
      if (status.reason === 'older-log')
        return `relay: the relay's log for this channel is older than this listener's cursor (#${status.cursor} > #${status.head}); ` +
          `delivering from #${status.from} again`;
      if (status.reason === 'diverged')
        return `relay: the relay's log for this channel holds another event at this listener's cursor #${status.cursor} (restored from ` +
          `an older copy?); delivering from #${status.from} again`;
      return `relay: the relay's log for this channel is not the one this listener's cursor (#${status.cursor}) counted in (it was made ` +
        `anew); delivering from #${status.from}`;
    case 'gap':
      return `relay: events #${status.from}–#${status.to} were dropped by the relay before delivery (${status.reason})`;
    case 'app-down':
      return `relay: #${status.seq} got ${status.status} (app down?); kept, retrying in ${seconds(status.retryInMs)}`;
    case 'late':
      return `relay: #${status.seq}: your app answered ${status.status} after ${seconds(status.ms)}, past FrontEngine's ` +
        `limit: its sender got 504 and retries on its own; not sent again`;
    case 'closed':
      return undefined;
  }
}

function describeRetry(status: RetryStatus): string {
  switch (status.state) {
    case 'retry-ok':
      return `relay: #${status.seq} delivered on attempt ${status.attempt}`;
    case 'retry-failed':
      return `relay: #${status.seq} FAILED after ${status.attempts} attempt${status.attempts === 1 ? '' : 's'} (FrontEngine's ` +
        `schedule); kept in the captures: fe-webhooks replay sends it again`;
    case 'journal-stalled':
      return `relay: ${status.message}; the retry schedule is kept in memory until it can be written`;
  }
}

/**
 * `listen --relay`: picks the channel (flags, else the remembered one, else a new one),
 * opens the tunnel with a file cursor in .fe-webhooks/, and reports its state on stderr
 * so a lost connection is never a silent stall.
 */
export async function startRelayLink(options: RelayLinkOptions): Promise<RelayLink> {
  const { io } = options;
  const [{ openTunnel }, { openCursorFile }] = await Promise.all([import('../tunnel/client.js'), import('../tunnel/cursor-file.js')]);
  const channel = await resolveRelayChannel({
    relayUrl: options.relayUrl,
    cwd: io.cwd,
    ...(options.channel !== undefined ? { channel: options.channel } : {}),
    ...(options.token !== undefined ? { token: options.token } : {}),
  });
  const cursor = await openCursorFile(cursorFile(io.cwd, channel.id));
  const c = colors(io, 'stderr');
  const { RetrySchedule } = await import('../tunnel/retry-schedule.js');
  const retries = await RetrySchedule.open({
    file: retryJournalFile(io.cwd, channel.id),
    channel: channel.id,
    handler: options.handler,
    delaysMs: FRONTENGINE_RETRY_DELAYS_MS,
    scale: options.retryScale ?? 1,
    onStatus: (status) => logLine(io, status.state === 'retry-ok' ? c.dim(describeRetry(status)) : c.yellow(describeRetry(status))),
  });
  if (retries.size > 0) {
    const scaled = options.retryScale !== undefined && options.retryScale !== 1 ? ` (--retry-scale ${options.retryScale})` : '';
    logLine(
      io,
      c.dim(
        `relay: ${retries.size} stored event${retries.size === 1 ? '' : 's'} still on FrontEngine's retry schedule${scaled}, from ` +
          `${path.relative(io.cwd, retryJournalFile(io.cwd, channel.id))}`,
      ),
    );
  }
  const tunnel = openTunnel({
    relayUrl: options.relayUrl,
    ...(options.fallbackUrls && options.fallbackUrls.length > 0 ? { fallbackUrls: options.fallbackUrls } : {}),
    channel: channel.id,
    token: channel.token,
    cursor,
    handler: options.handler,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.answerBudgetMs !== undefined ? { answerBudgetMs: options.answerBudgetMs } : {}),
    retries,
    onStatus: (status) => {
      const described = describe(status);
      if (!described) return;
      // A relay's close reason or error text is quoted here: escaped to one line.
      const line = printableSnippet(described, STATUS_LINE_MAX_CHARS);
      const warn =
        status.state === 'reconnecting' ||
        status.state === 'gap' ||
        status.state === 'app-down' ||
        status.state === 'late' ||
        status.state === 'cursor-reset';
      logLine(io, warn ? c.yellow(line) : c.dim(line));
    },
  });
  // Waits a little for the first connection, so "ready" usually means connected; with the
  // relay down, listen still starts and says "reconnecting…". A refusal throws here or,
  // later, ends listen through `done`.
  let grace: NodeJS.Timeout | undefined;
  try {
    await Promise.race([tunnel.ready, new Promise((resolve) => (grace = setTimeout(resolve, FIRST_CONNECT_GRACE_MS)))]).finally(() =>
      clearTimeout(grace),
    );
  } catch (error) {
    await retries.close();
    throw error;
  }
  return {
    publicUrl: channel.url,
    channel: channel.id,
    created: channel.created,
    done: tunnel.done,
    async close() {
      await tunnel.close();
      await retries.close();
    },
  };
}

/** `--relay`: http only to loopback; anything else must be https (the token travels on it). */
export function parseRelayUrl(input: string): URL {
  const url = parseTargetUrl(input, '--relay URL');
  if (url.protocol === 'http:' && !isLocalDestination(url.hostname)) {
    throw new UserError(
      `Refusing plain http to the relay at ${url.host}: the channel token would cross the network in clear. Use https://`,
    );
  }
  return url;
}

/** `--relay URL1,URL2,…`: instances of one relay sharing a Redis; the first names the channel. */
export function parseRelayUrls(input: string): URL[] {
  const parts = input.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new UserError('--relay needs a URL');
  return parts.map(parseRelayUrl);
}
