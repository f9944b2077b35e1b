import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { errorMessage } from '../errors.js';
import { CHANNEL_ID_PATTERN, CLOSE_CODES, HEARTBEAT_DEAD_MS, PING_INTERVAL_MS, TUNNEL_PATH } from '../protocol/index.js';
import { channelAdminTarget, handleChannelAdmin } from './channel-admin.js';
import { answerQueued } from './custom-answer.js';
import { handleInspect, inspectTarget } from './inspect.js';
import { hashToken, newChannelId, newToken } from './credentials.js';
import { ChannelDelivery } from './delivery.js';
import { FileChannelStore } from './file-store.js';
import { serveListenerSocket } from './listener-socket.js';
import { readBodyWithin } from './read-body.js';
import { sendJson } from './send-json.js';
import type { ChannelStore, DroppedRange, RetentionPolicy, Revocation, TargetAnswer } from './store.js';
import { TokenBucket } from './token-bucket.js';
import { startRetentionSweep } from './retention-sweep.js';
import { connectionsAllowed, descriptorsNeeded, logFilesWithin, softOpenFilesLimit } from './descriptor-budget.js';
import { HeartbeatSweep } from './heartbeat-sweep.js';
import { AddressRateLimiter } from './address-limiter.js';
import { DEFAULT_CREATION_LIMIT, DEFAULT_MAX_CHANNELS, type CreationLimit } from './limits.js';
import { isHopByHop } from '../util/hop-by-hop.js';
import { hasDotSegments } from '../util/url.js';
import { ALLOWED_METHODS, CONNECT_REASON, answerClientError, jsonReason, writeRawAnswer } from '../util/raw-answer.js';
import { requestTargetProblem } from '../util/request-target.js';
import { listenOn } from '../util/listen-on.js';
import { serveAsPlainRequest } from './plain-upgrade.js';
import { skipped } from '../util/debug.js';

/** Answer the sender before FrontEngine's 5 s are up, with room for the network. */
export const ANSWER_BUDGET_MS = FRONTENGINE_TIMEOUT_MS - 500;
/** How often the age limit is applied to open channels. */
const RETENTION_SWEEP_MS = 60_000;
/** A shared store's connections (Redis: commands, blocking reads, pub/sub), whatever the channel count. */
const REDIS_CONNECTIONS = 3;
/** Listener → relay frames are acks and heartbeats: small. */
const MAX_LISTENER_FRAME_BYTES = 1024 * 1024;

export type RelayLogEntry =
  | { kind: 'channel-created'; channel: string }
  | { kind: 'channels-full'; max: number }
  | { kind: 'listener-connected'; channel: string; after: number }
  | { kind: 'listener-closed'; channel?: string; reason: string }
  | { kind: 'auth-refused'; reason: string }
  | { kind: 'admin-refused'; channel: string; action: 'rotate-token' | 'delete' }
  | { kind: 'token-rotated'; channel: string }
  | { kind: 'channel-deleted'; channel: string }
  | { kind: 'event'; channel: string; seq: number; status: number; ms: number }
  | { kind: 'dropped'; range: DroppedRange }
  | { kind: 'store-error'; channel: string; message: string }
  /** A request failed for a reason that is not the store's (answered 503). */
  | { kind: 'request-error'; message: string }
  | { kind: 'store-status'; channel: string; message: string }
  | { kind: 'descriptor-limit'; limit: number; needed: number; maxChannels: number };

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
  /** Channel log files open at once on the file store (see open-file-budget.ts). */
  maxOpenLogFiles?: number;
  /** Another store (e.g. a shared one); default: files under dataDir. */
  store?: ChannelStore;
  onLog?: (entry: RelayLogEntry) => void;
}

export interface RunningRelay {
  url: string;
  port: number;
  close(): Promise<void>;
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
  const softLimit = softOpenFilesLimit();
  const store: ChannelStore =
    options.store ??
    (await FileChannelStore.open({
      dataDir: options.dataDir,
      retention: options.retention,
      onDropped: (range) => log({ kind: 'dropped', range }),
      maxOpenLogFiles: options.maxOpenLogFiles ?? logFilesWithin(softLimit),
      onLockTakenOver: (holder) =>
        log({
          kind: 'store-status',
          channel: '-',
          message: `took over ${options.dataDir} from relay PID ${holder.pid}, which is no longer running`,
        }),
    }));
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

  /** Per channel, how many rotations or deletions this instance has seen (a subscribe checked before one is checked again). */
  const revocations = new Map<string, number>();
  /** A rotated token or a deleted channel: its listener here goes, with a close code saying why. */
  const closeListeners = (id: string, revocation: Revocation): void => {
    revocations.set(id, (revocations.get(id) ?? 0) + 1);
    void deliveries.get(id)?.then((found) =>
      revocation === 'token-rotated'
        ? found?.revoke(CLOSE_CODES.tokenRevoked, 'the channel token was rotated')
        : found?.revoke(CLOSE_CODES.channelDeleted, 'the channel was deleted'),
    );
  };
  const forgetChannel = (id: string): void => {
    deliveries.delete(id);
    buckets.delete(id);
    // A slot is free again: the next time the relay is full is worth a line too.
    fullReported = false;
  };
  // Another instance on the shared store rotated or deleted (this one's own come back here too: both are idempotent).
  store.onRevoked?.((id, revocation) => {
    closeListeners(id, revocation);
    if (revocation === 'channel-deleted') forgetChannel(id);
  });

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
      return sendJson(
        res,
        429,
        { error: `too many channels created from this address; retry in ${waitSeconds} s` },
        { 'retry-after': String(waitSeconds) },
      );
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
    let answering: Promise<TargetAnswer | undefined | 'timeout'> | undefined;
    // The wait for the answer starts as soon as the event is readable, which is before the
    // listener can have it: the file log sends it while its sync runs (FileEventLog.scheduleWrite).
    const written = (readable: number): void => {
      answering = channel.connected
        ? channel.waitForAnswer(readable, answerBudgetMs)
        : (channel.log.shared?.remoteAnswer(readable, answerBudgetMs) ?? Promise.resolve(undefined));
      channel.appended();
    };
    try {
      seq = await channel.log.append(
        { method: req.method ?? 'POST', path: target.path, rawHeaders: req.rawHeaders, body, receivedAt: new Date() },
        written,
      );
    } catch (error) {
      // Readable but its sync failed: it may still reach the app (its seq is never reused),
      // but it is not known to be on disk, so the sender is not told it was taken. A wait
      // already started ends with its budget.
      // Deleted while this request was being stored: nothing was kept, and there is no channel.
      if (!(await store.channel(target.id).catch(skipped('checking whether the channel still exists (assuming it does)', true))))
        return sendJson(res, 404, { error: 'unknown channel' });
      // Never acknowledge what is not on disk: 503 makes FrontEngine retry later.
      log({ kind: 'store-error', channel: target.id, message: errorMessage(error) });
      return sendJson(res, 503, { error: 'the relay could not store this request' }, { 'retry-after': '60' });
    }
    const answer = await (answering ?? Promise.resolve(undefined));
    const ms = Math.round(performance.now() - startedMs);
    if (answer === undefined) {
      // No listener: 202 queued, or the answer the channel's owner set (custom-answer.ts).
      const custom = await store.customAnswer?.(target.id).catch(skipped("the channel's custom answer (answering 202)"));
      log({ kind: 'event', channel: target.id, seq, status: custom?.status ?? 202, ms });
      return answerQueued(res, seq, custom);
    }
    if (answer === 'timeout') {
      log({ kind: 'event', channel: target.id, seq, status: 504, ms });
      return sendJson(res, 504, {
        error: `no answer from the listener's target within ${answerBudgetMs} ms; the event is kept and will be delivered`,
        seq,
      });
    }
    log({ kind: 'event', channel: target.id, seq, status: answer.status, ms });
    const headers: string[] = [];
    for (const [name, value] of answer.headers) {
      const lower = name.toLowerCase();
      if (!isHopByHop(lower) && lower !== 'content-length') headers.push(name, value);
    }
    headers.push('content-length', String(answer.body.length), 'x-fe-webhooks-seq', String(seq));
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (url === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return sendJson(res, 200, { ok: true });
    if (url === '/channels' && req.method === 'POST') return createChannel(req, res);
    const problem = requestTargetProblem(url);
    if (problem) {
      req.resume();
      return sendJson(res, problem.status, { error: problem.reason });
    }
    const inspect = inspectTarget(url);
    if (inspect) {
      return handleInspect(req, res, inspect, {
        store,
        channelUrl: (request, id) => `${publicBase(request)}/c/${id}`,
        onRefused: (channel) => log({ kind: 'auth-refused', reason: `wrong token for the channel page of ${channel}` }),
      });
    }
    const admin = channelAdminTarget(url);
    if (admin) {
      return handleChannelAdmin(req, res, admin, {
        store,
        closeListeners,
        changed: (id, revocation) => {
          if (revocation === 'channel-deleted') {
            // Again: a listener that subscribed while the files were being removed goes too.
            closeListeners(id, revocation);
            forgetChannel(id);
          }
          log({ kind: revocation, channel: id });
        },
        onRefused: (channel, action) => log({ kind: 'admin-refused', channel, action }),
      });
    }
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
      log({ kind: 'request-error', message: errorMessage(error) });
      if (!res.headersSent) sendJson(res, 503, { error: 'the relay could not handle this request' });
      else res.destroy();
    });
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest)
    : createHttpServer(onRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_LISTENER_FRAME_BYTES });
  const heartbeats = new HeartbeatSweep(options.pingIntervalMs ?? PING_INTERVAL_MS, options.deadAfterMs ?? HEARTBEAT_DEAD_MS);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Only the listeners' WebSocket is upgraded; any other request offering an upgrade
    // (a POST with `Upgrade: h2c`) is served as the plain request it also is.
    if ((req.url ?? '').split('?')[0] !== TUNNEL_PATH) return serveAsPlainRequest(server, req, socket, head, options.tls !== undefined);
    wss.handleUpgrade(req, socket, head, (ws) =>
      serveListenerSocket(ws, {
        channel: async (id) => {
          for (;;) {
            const seen = revocations.get(id);
            const record = await store.channel(id);
            const found = record ? await delivery(id) : undefined;
            // A rotation landed while the record was read: read the new token hash.
            if (revocations.get(id) === seen) return record && found ? { delivery: found, tokenHash: record.tokenHash } : undefined;
          }
        },
        heartbeats,
        ...(req.socket.remoteAddress ? { address: `${req.socket.remoteAddress}:${req.socket.remotePort}` } : {}),
        onSubscribed: (channel, after) => log({ kind: 'listener-connected', channel, after }),
        onClosed: (channel, reason) => log({ kind: 'listener-closed', ...(channel ? { channel } : {}), reason }),
        onRefused: (reason) => log({ kind: 'auth-refused', reason }),
      }),
    );
  });
  // Malformed HTTP, headers or URL too long: 400/431/414 with a JSON reason.
  server.on('clientError', answerClientError);
  // Node would close a CONNECT's socket without a word: the relay is not a proxy.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    writeRawAnswer(socket, 405, jsonReason(CONNECT_REASON), [['allow', ALLOWED_METHODS]]);
  });
  // Channels cost no descriptors of their own; connections do. Past what the soft limit
  // leaves after the logs' share, a connection is refused at once (the sender retries)
  // rather than taking the descriptor a log needs to store an event.
  if (softLimit !== undefined) {
    const fileStore = store instanceof FileChannelStore ? store : undefined;
    const budget = { maxOpenLogFiles: fileStore?.openFiles.maxOpen ?? 0, storeConnections: fileStore ? 0 : REDIS_CONNECTIONS };
    const needed = descriptorsNeeded({ maxChannels, ...budget });
    if (softLimit < needed) log({ kind: 'descriptor-limit', limit: softLimit, needed, maxChannels });
    server.maxConnections = connectionsAllowed(softLimit, budget);
  }
  // Slow senders must not hold sockets forever (slowloris).
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;

  try {
    await listenOn(server, options.host, options.port);
  } catch (error) {
    // The port is taken: the data folder's lock goes with the store, not with a later kill.
    if (!options.store) await store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const sweep = startRetentionSweep(store, RETENTION_SWEEP_MS);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: options.publicUrl?.href.replace(/\/$/, '') ?? `${options.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    async close() {
      sweep.stop();
      heartbeats.stop();
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
