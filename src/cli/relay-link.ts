import { UserError } from '../errors.js';
import { resolveRelayChannel, cursorFile } from '../tunnel/channel.js';
import { isLoopbackHost, parseTargetUrl } from '../util/url.js';
import type { TunnelHandler, TunnelStatus } from '../tunnel/client.js';
import { colors } from './colors.js';
import { logLine, type CliIO } from './io.js';

/** How long listen waits for the relay before it says ready anyway. */
const FIRST_CONNECT_GRACE_MS = 3_000;

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
      return `relay: ${status.reason}; reconnecting in ${(status.delayMs / 1000).toFixed(1)} s (attempt ${status.attempt})…`;
    case 'cursor-reset':
      if (status.reason === 'older-log') return `relay: the relay's log for this channel is older than this listener's cursor (#${status.cursor} > #${status.head}); delivering from #${status.from} again`;
      if (status.reason === 'diverged') return `relay: the relay's log for this channel holds another event at this listener's cursor #${status.cursor} (restored from an older copy?); delivering from #${status.from} again`;
      return `relay: the relay's log for this channel is not the one this listener's cursor (#${status.cursor}) counted in (it was made anew); delivering from #${status.from}`;
    case 'gap':
      return `relay: events #${status.from}–#${status.to} were dropped by the relay before delivery (${status.reason})`;
    case 'app-down':
      return `relay: #${status.seq} got ${status.status} (app down?); kept, retrying in ${(status.retryInMs / 1000).toFixed(1)} s`;
    case 'closed':
      return undefined;
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
  const tunnel = openTunnel({
    relayUrl: options.relayUrl,
    ...(options.fallbackUrls && options.fallbackUrls.length > 0 ? { fallbackUrls: options.fallbackUrls } : {}),
    channel: channel.id,
    token: channel.token,
    cursor,
    handler: options.handler,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    onStatus: (status) => {
      const line = describe(status);
      if (!line) return;
      const warn = status.state === 'reconnecting' || status.state === 'gap' || status.state === 'app-down' || status.state === 'cursor-reset';
      logLine(io, warn ? c.yellow(line) : c.dim(line));
    },
  });
  // Waits a little for the first connection, so "ready" usually means connected; with the
  // relay down, listen still starts and says "reconnecting…". A refusal throws here or,
  // later, ends listen through `done`.
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([tunnel.ready, new Promise((resolve) => (grace = setTimeout(resolve, FIRST_CONNECT_GRACE_MS)))]).finally(() => clearTimeout(grace));
  return { publicUrl: channel.url, channel: channel.id, created: channel.created, done: tunnel.done, close: () => tunnel.close() };
}

/** `--relay`: http only to loopback; anything else must be https (the token travels on it). */
export function parseRelayUrl(input: string): URL {
  const url = parseTargetUrl(input, '--relay URL');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new UserError(`Refusing plain http to the relay at ${url.host}: the channel token would cross the network in clear. Use https://`);
  }
  return url;
}

/** `--relay URL1,URL2,…`: instances of one relay sharing a Redis; the first names the channel. */
export function parseRelayUrls(input: string): URL[] {
  const parts = input.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new UserError('--relay needs a URL');
  return parts.map(parseRelayUrl);
}
