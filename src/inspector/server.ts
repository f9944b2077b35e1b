import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeBody, type CaptureRecord, type ForwardResult } from '../capture/record.js';
import { captureAsCurl } from './copy-as-curl.js';
import { listenOn, urlFor } from '../listen/http-server.js';
import { allowedHosts, isSameOriginRequest } from './origin.js';
import { INSPECTOR_PAGE } from './page.js';
import { RecentRequests } from './recent.js';

/** The page gets at most this much of each body inline; the rest through /api/requests/:id/body. */
const PREVIEW_BODY_BYTES = 256 * 1024;
/** A browser tab that stops reading gets dropped rather than buffered for. */
const MAX_CLIENT_BUFFER_BYTES = 8 * 1024 * 1024;

export interface InspectorOptions {
  /** Always a loopback address: the inspector can replay, so it is never exposed. */
  host: string;
  port: number;
  webhookUrl: string;
  /** The forward target, shown on the page; replay is offered only with one. */
  target?: string;
  /** Re-sends one captured request to the target with its original bytes. */
  replay?: (record: CaptureRecord) => Promise<ForwardResult>;
  recent?: RecentRequests;
}

export interface Inspector {
  url: string;
  port: number;
  /** Shows a new request on every open page. */
  publish(record: CaptureRecord): void;
  close(): Promise<void>;
}

/** What the page receives for one request: the record, with a bounded body preview. */
function forPage(record: CaptureRecord): CaptureRecord & { bodyTruncated?: boolean } {
  if (record.body.length <= PREVIEW_BODY_BYTES) return record;
  return { ...record, body: record.body.slice(0, PREVIEW_BODY_BYTES), bodyTruncated: true };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
}

/**
 * The inspector: one static page, a small JSON API and a WebSocket feed, on its own
 * loopback port so that the capture endpoint can take any path without clashing.
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const recent = options.recent ?? new RecentRequests();
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  let hosts = new Set<string>();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isSameOriginRequest(req.headers, hosts)) return sendJson(res, 403, { error: 'cross-origin requests are refused' });
    const url = new URL(req.url ?? '/', 'http://inspector');
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: ; frame-ancestors 'none'",
      });
      return void res.end(INSPECTOR_PAGE);
    }
    if (req.method === 'GET' && url.pathname === '/api/requests') {
      return sendJson(res, 200, { webhookUrl: options.webhookUrl, target: options.target ?? null, requests: recent.list().map(forPage) });
    }
    const match = /^\/api\/requests\/([\w-]+)\/(body|replay|curl)$/.exec(url.pathname);
    const record = match ? recent.get(match[1] as string) : undefined;
    if (match && !record) return sendJson(res, 404, { error: 'no such request in the inspector window' });
    if (record && match?.[2] === 'body' && req.method === 'GET') {
      const bytes = decodeBody(record);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length }).end(bytes);
      return;
    }
    if (record && match?.[2] === 'curl' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(captureAsCurl(record, options.webhookUrl));
      return;
    }
    if (record && match?.[2] === 'replay' && req.method === 'POST') {
      if (!options.replay) return sendJson(res, 409, { error: 'no --forward target to replay to' });
      return sendJson(res, 200, await options.replay(record));
    }
    sendJson(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: error.message });
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
      for (const record of recent.after(after)) ws.send(JSON.stringify({ type: 'request', request: forPage(record) }));
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
      if (sockets.clients.size === 0) return;
      const message = JSON.stringify({ type: 'request', request: forPage(record) });
      for (const client of sockets.clients as Set<WebSocket>) {
        if (client.bufferedAmount > MAX_CLIENT_BUFFER_BYTES) client.terminate();
        else client.send(message);
      }
    },
    async close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
