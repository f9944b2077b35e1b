import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeBody, type CaptureRecord, type ForwardResult } from '../capture/record.js';
import { EVENT_NAMES } from '../events/catalog.js';
import { readPageBody, resignedCopy, schemaCheck, sendTestEvent } from './actions.js';
import { isInspectorAsset, PAGE_HEADERS, sendInspectorAsset } from './assets.js';
import { captureAsCurl } from './copy-as-curl.js';
import { listenOn, urlFor } from '../util/listen-on.js';
import { allowedHosts, isSameOriginRequest } from './origin.js';
import { inspectorHtml } from './page-html.js';
import { RECENT_MAX_REQUESTS, RecentRequests } from './recent.js';
import { forPage, harIds, sendBody, sendHar, sendJson } from './responses.js';
import type { WireList, WireMessage, WireSendResult } from './wire.js';

/** A browser tab that stops reading gets dropped rather than buffered for. */
const MAX_CLIENT_BUFFER_BYTES = 8 * 1024 * 1024;
/** An edited body, or a HAR export's list of ids, from the page. */
const MAX_PAGE_BODY_BYTES = 25 * 1024 * 1024;

export interface InspectorOptions {
  /** Always a loopback address: the inspector can replay, so it is never exposed. */
  host: string;
  port: number;
  webhookUrl: string;
  /** The forward target, shown on the page; replay is offered only with one. */
  target?: string;
  /** Re-sends one captured request to the target with its original bytes. */
  replay?: (record: CaptureRecord) => Promise<ForwardResult>;
  /** listen's secret: edit-and-replay and test events are signed with it. */
  secret?: string;
  recent?: RecentRequests;
}

export interface Inspector {
  url: string;
  port: number;
  /** Shows a new request on every open page. */
  publish(record: CaptureRecord): void;
  close(): Promise<void>;
}

function sendResult(result: ForwardResult): WireSendResult {
  return result.error !== undefined
    ? { error: result.error, latencyMs: result.latencyMs }
    : { status: result.status, latencyMs: result.latencyMs };
}

/**
 * The inspector: one static page, a small JSON API and a WebSocket feed, on its own
 * loopback port so that the capture endpoint can take any path without clashing.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const recent = options.recent ?? new RecentRequests();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  let hosts = new Set<string>();

  function broadcast(message: WireMessage): void {
    if (sockets.clients.size === 0) return;
    const text = JSON.stringify(message);
    for (const client of sockets.clients as Set<WebSocket>) {
      if (client.bufferedAmount > MAX_CLIENT_BUFFER_BYTES) client.terminate();
      else client.send(text);
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse, record: CaptureRecord, action: string): Promise<void> {
    if (action === 'body' && req.method === 'GET') return sendBody(res, record);
    if (action === 'check' && req.method === 'GET') return sendJson(res, 200, schemaCheck(decodeBody(record)));
    if (action === 'curl' && req.method === 'GET') {
      res
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end(captureAsCurl(record, options.webhookUrl));
      return;
    }
    if (action === 'replay' && req.method === 'POST') {
      if (!options.replay) return sendJson(res, 409, { error: 'no --forward target to replay to' });
      return sendJson(res, 200, await options.replay(record));
    }
    if (action === 'replay-edited' && req.method === 'POST') {
      if (!options.replay) return sendJson(res, 409, { error: 'no --forward target to replay to' });
      if (options.secret === undefined) return sendJson(res, 409, { error: 'listen has no secret to sign the edited body with' });
      const body = await readPageBody(req, MAX_PAGE_BODY_BYTES);
      if (body === null) return sendJson(res, 413, { error: 'the edited body is too large' });
      return sendJson(res, 200, sendResult(await options.replay(resignedCopy(record, body, options.secret))));
    }
    sendJson(res, 405, { error: 'method not allowed' });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isSameOriginRequest(req.headers, hosts)) return sendJson(res, 403, { error: 'cross-origin requests are refused' });
    const url = new URL(req.url ?? '/', 'http://inspector');
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      return void res.writeHead(200, PAGE_HEADERS).end(inspectorHtml({ mode: 'listen', apiBase: '/api', assetBase: '/assets' }));
    }
    const asset = /^\/assets\/([\w.-]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && asset !== undefined && isInspectorAsset(asset)) return sendInspectorAsset(res, asset);
    if (url.pathname === '/api/requests') {
      if (req.method === 'DELETE') {
        // Clears the inspector's window, on every open page; the captures file keeps everything.
        recent.clear();
        broadcast({ type: 'cleared' });
        return sendJson(res, 200, { cleared: true });
      }
      const list: WireList = {
        mode: 'listen',
        webhookUrl: options.webhookUrl,
        target: options.target ?? null,
        events: [...EVENT_NAMES],
        canSign: options.secret !== undefined,
        requests: recent.list().map(forPage),
      };
      return sendJson(res, 200, list);
    }
    if (url.pathname === '/api/har' && req.method === 'POST') {
      const ids = harIds(await readPageBody(req, MAX_PAGE_BODY_BYTES), RECENT_MAX_REQUESTS);
      if (ids === null) return sendJson(res, 400, { error: 'expected {"ids": ["req_...", ...]}' });
      return sendHar(res, ids.flatMap((id) => recent.get(id) ?? []));
    }
    if (url.pathname === '/api/test-event' && req.method === 'POST') {
      const body = await readPageBody(req, 4096);
      let event: unknown;
      try {
        event = (JSON.parse(body?.toString('utf8') ?? '') as { event?: unknown }).event;
      } catch {
        event = undefined;
      }
      if (typeof event !== 'string') return sendJson(res, 400, { error: 'expected {"event": "<name>"}' });
      return sendJson(res, 200, await sendTestEvent(options.webhookUrl, event, options.secret));
    }
    const match = /^\/api\/requests\/([\w-]+)\/(body|replay|replay-edited|curl|check)$/.exec(url.pathname);
    if (match) {
      const record = recent.get(match[1] as string);
      if (!record) return sendJson(res, 404, { error: 'no such request in the inspector window' });
      return onRequest(req, res, record, match[2] as string);
    }
    sendJson(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: error.message });
      else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://inspector').pathname !== '/ws' || !isSameOriginRequest(req.headers, hosts)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    // `?after=<id>`: the last request the page has. What came since (while it was
    // reconnecting, or between its first load and this socket) goes first, in the same
    // turn that adds the socket to the live feed, so nothing falls in between.
    const after = new URL(req.url ?? '/', 'http://inspector').searchParams.get('after');
    sockets.handleUpgrade(req, socket, head, (ws) => {
      for (const record of recent.after(after))
        ws.send(JSON.stringify({ type: 'request', request: forPage(record) } satisfies WireMessage));
      sockets.emit('connection', ws, req);
    });
  });

  const address = await listenOn(server, options.host, options.port);
  hosts = allowedHosts(address.port);

  return {
    url: `${urlFor(options.host, address.port)}/`,
    port: address.port,
    publish(record) {
      recent.add(record);
      broadcast({ type: 'request', request: forPage(record) });
    },
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
