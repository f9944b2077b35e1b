import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { errorMessage } from '../errors.js';
import { CHANNEL_ID_PATTERN, HEARTBEAT_DEAD_MS, PING_INTERVAL_MS, TUNNEL_PATH } from '../protocol/index.js';
import { hashToken, newChannelId, newToken } from './credentials.js';
import { ChannelDelivery } from './delivery.js';
import { FileChannelStore } from './file-store.js';
import { serveListenerSocket } from './listener-socket.js';
import { readBodyWithin } from './read-body.js';
import type { ChannelStore, DroppedRange, RetentionPolicy } from './store.js';
import { TokenBucket } from './token-bucket.js';
import { AddressRateLimiter } from './address-limiter.js';
import { DEFAULT_CREATION_LIMIT, DEFAULT_MAX_CHANNELS, type CreationLimit } from './limits.js';
import { isHopByHop } from '../util/hop-by-hop.js';
import { hasDotSegments } from '../util/url.js';

/** Answer the sender before FrontEngine's 5 s are up, with room for the network. */
export const ANSWER_BUDGET_MS = FRONTENGINE_TIMEOUT_MS - 500;
/** How often the age limit is applied to open channels. */
const RETENTION_SWEEP_MS = 60_000;
/** Listener → relay frames are acks and heartbeats: small. */
const MAX_LISTENER_FRAME_BYTES = 1024 * 1024;

export type RelayLogEntry =
  | { kind: 'channel-created'; channel: string }
  | { kind: 'channels-full'; max: number }
  | { kind: 'listener-connected'; channel: string; after: number }
  | { kind: 'listener-closed'; channel?: string; reason: string }
  | { kind: 'auth-refused'; reason: string }
  | { kind: 'event'; channel: string; seq: number; status: number; ms: number }
  | { kind: 'dropped'; range: DroppedRange }
  | { kind: 'store-error'; channel: string; message: string }
  | { kind: 'store-status'; channel: string; message: string };

export interface RelayOptions {
  port: number;
  host: string;
  dataDir: string;
  maxBodyBytes: number;
  retention: RetentionPolicy;
  /** Per channel: sustained events per second and burst. */
  rateLimit: { perSecond: number; burst: number };
  /** POST /channels per client address; default DEFAULT_CREATION_LIMIT. */
  creationLimit?: CreationLimit;
  /** Channels the relay holds at most (all instances together on Redis); default DEFAULT_MAX_CHANNELS. */
  maxChannels?: number;
  tls?: { cert: Buffer; key: Buffer };
  /** The base of channel URLs when the relay sits behind a proxy. */
  publicUrl?: URL;
  answerBudgetMs?: number;
  pingIntervalMs?: number;
  deadAfterMs?: number;
  /** Another store (e.g. a shared one); default: files under dataDir. */
  store?: ChannelStore;
  onLog?: (entry: RelayLogEntry) => void;
}

export interface RunningRelay {
  url: string;
  port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}

/** `/c/<id>/rest?q` → the id and the path the listener forwards (`/rest?q`). */
function channelTarget(url: string): { id: string; path: string } | undefined {
  const match = /^\/c\/([^/?#]+)(.*)$/s.exec(url);
  if (!match) return undefined;
  const rest = match[2] as string;
  return { id: match[1] as string, path: rest.startsWith('/') ? rest : `/${rest}` };
}

/**
 * The relay: one HTTP(S) server for senders (`/c/<id>`), channel creation and health,
 * and the listeners' WebSocket on the same port.
 */
export async function startRelay(options: RelayOptions): Promise<RunningRelay> {
  const log = options.onLog ?? (() => undefined);
  const store = options.store ?? (await FileChannelStore.open({ dataDir: options.dataDir, retention: options.retention, onDropped: (range) => log({ kind: 'dropped', range }) }));
  const deliveries = new Map<string, Promise<ChannelDelivery | undefined>>();
  const buckets = new Map<string, TokenBucket>();
  const answerBudgetMs = options.answerBudgetMs ?? ANSWER_BUDGET_MS;
  const creators = new AddressRateLimiter(options.creationLimit ?? DEFAULT_CREATION_LIMIT);
  const maxChannels = options.maxChannels ?? DEFAULT_MAX_CHANNELS;
  let fullReported = false;

  const delivery = (id: string): Promise<ChannelDelivery | undefined> => {
    let found = deliveries.get(id);
    if (!found) {
      found = store.log(id).then((eventLog) => (eventLog ? new ChannelDelivery(eventLog) : undefined));
      deliveries.set(id, found);
      // Unknown now may exist later (another relay instance can create it on a shared store).
      found.then((known) => known ?? deliveries.delete(id), () => deliveries.delete(id));
    }
    return found;
  };

  const publicBase = (req: IncomingMessage): string => {
    if (options.publicUrl) return options.publicUrl.href.replace(/\/$/, '');
    const scheme = options.tls ? 'https' : 'http';
    const host = req.headers.host && /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host) ? req.headers.host : `${options.host}:${port}`;
    return `${scheme}://${host}`;
  };

  const createChannel = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    req.resume();
    const waitSeconds = creators.take(req.socket.remoteAddress ?? '-');
    if (waitSeconds !== undefined) {
      return sendJson(res, 429, { error: `too many channels created from this address; retry in ${waitSeconds} s` }, { 'retry-after': String(waitSeconds) });
    }
    const id = newChannelId();
    const token = newToken();
    if (!(await store.createChannel({ id, tokenHash: hashToken(token), createdAt: new Date().toISOString() }, maxChannels))) {
      // Not the client's fault and not cured by waiting: 503 without Retry-After, the operator must act.
      // One line for the operator, not one per refused request.
      if (!fullReported) log({ kind: 'channels-full', max: maxChannels });
      fullReported = true;
      return sendJson(res, 503, { error: `the relay holds its maximum of ${maxChannels} channels; ask its operator` });
    }
    log({ kind: 'channel-created', channel: id });
    sendJson(res, 201, { id, token, url: `${publicBase(req)}/c/${id}` });
  };

  const capture = async (req: IncomingMessage, res: ServerResponse, target: { id: string; path: string }): Promise<void> => {
    const channel = CHANNEL_ID_PATTERN.test(target.id) ? await delivery(target.id) : undefined;
    if (!channel) {
      req.resume();
      return sendJson(res, 404, { error: 'unknown channel' });
    }
    let bucket = buckets.get(target.id);
    if (!bucket) buckets.set(target.id, (bucket = new TokenBucket(options.rateLimit.perSecond, options.rateLimit.burst)));
    if (!bucket.take()) {
      req.resume();
      return sendJson(res, 429, { error: 'too many requests for this channel' }, { 'retry-after': String(bucket.retryAfterSeconds()) });
    }
    const body = await readBodyWithin(req, options.maxBodyBytes);
    if (body === 'too-large') {
      return sendJson(res, 413, { error: `body over ${options.maxBodyBytes} bytes` }, { connection: 'close' });
    }
    const startedMs = performance.now();
    let seq: number;
    try {
      seq = await channel.log.append({ method: req.method ?? 'POST', path: target.path, rawHeaders: req.rawHeaders, body, receivedAt: new Date() });
    } catch (error) {
      // Never acknowledge what is not on disk: 503 makes FrontEngine retry later.
      log({ kind: 'store-error', channel: target.id, message: errorMessage(error) });
      return sendJson(res, 503, { error: 'the relay could not store this request' }, { 'retry-after': '60' });
    }
    // Wait first, then wake the sender loop: the answer cannot arrive before the waiter exists.
    const answering = channel.connected ? channel.waitForAnswer(seq, answerBudgetMs) : (channel.log.shared?.remoteAnswer(seq, answerBudgetMs) ?? Promise.resolve(undefined));
    channel.appended();
    const answer = await answering;
    const ms = Math.round(performance.now() - startedMs);
    if (answer === undefined) {
      log({ kind: 'event', channel: target.id, seq, status: 202, ms });
      return sendJson(res, 202, { queued: true, seq }, { 'x-fe-webhooks-seq': String(seq) });
    }
    if (answer === 'timeout') {
      log({ kind: 'event', channel: target.id, seq, status: 504, ms });
      return sendJson(res, 504, { error: `no answer from the listener's target within ${answerBudgetMs} ms; the event is kept and will be delivered`, seq });
    }
    log({ kind: 'event', channel: target.id, seq, status: answer.status, ms });
    const headers: Array<[string, string]> = answer.headers.filter(([name]) => !isHopByHop(name.toLowerCase()) && name.toLowerCase() !== 'content-length');
    res.writeHead(answer.status, [...headers.flat(), 'content-length', String(answer.body.length), 'x-fe-webhooks-seq', String(seq)]);
    res.end(answer.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (url === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return sendJson(res, 200, { ok: true });
    if (url === '/channels' && req.method === 'POST') return createChannel(req, res);
    const target = channelTarget(url);
    if (target && hasDotSegments(target.path)) {
      // The rest of the path is appended to the listener's forward target: no climbing out of it.
      req.resume();
      return sendJson(res, 400, { error: 'the path must not contain . or .. segments' });
    }
    if (target) return capture(req, res, target);
    req.resume();
    sendJson(res, 404, { error: 'not found' });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      log({ kind: 'store-error', channel: '-', message: errorMessage(error) });
      if (!res.headersSent) sendJson(res, 503, { error: 'the relay could not handle this request' });
      else res.destroy();
    });
  };

  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createHttpServer(onRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_LISTENER_FRAME_BYTES });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== TUNNEL_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      serveListenerSocket(ws, {
        channel: async (id) => {
          const record = await store.channel(id);
          const found = record ? await delivery(id) : undefined;
          return record && found ? { delivery: found, tokenHash: record.tokenHash } : undefined;
        },
        ...(req.socket.remoteAddress ? { address: `${req.socket.remoteAddress}:${req.socket.remotePort}` } : {}),
        pingIntervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
        deadAfterMs: options.deadAfterMs ?? HEARTBEAT_DEAD_MS,
        onSubscribed: (channel, after) => log({ kind: 'listener-connected', channel, after }),
        onClosed: (channel, reason) => log({ kind: 'listener-closed', ...(channel ? { channel } : {}), reason }),
        onRefused: (reason) => log({ kind: 'auth-refused', reason }),
      }),
    );
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  // Slow senders must not hold sockets forever (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const sweep = setInterval(() => {
    for (const eventLog of store.openLogs()) void eventLog.applyRetention(new Date()).catch(() => undefined);
  }, RETENTION_SWEEP_MS);
  sweep.unref();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: options.publicUrl?.href.replace(/\/$/, '') ?? `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    async close() {
      clearInterval(sweep);
      for (const client of wss.clients) client.close(1001, 'relay shutting down');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const client of wss.clients) client.terminate();
      await store.close();
    },
  };
}
