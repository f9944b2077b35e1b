import type { IncomingMessage, ServerResponse } from 'node:http';
import { eventOf } from '../capture/event-name.js';
import { encodeBody, headersFromRaw, type CaptureRecord } from '../capture/record.js';
import { EVENT_NAMES } from '../events/catalog.js';
import { schemaCheck } from '../inspector/actions.js';
import { isInspectorAsset, PAGE_HEADERS, sendInspectorAsset } from '../inspector/assets.js';
import { captureAsCurl } from '../inspector/copy-as-curl.js';
import { inspectorHtml } from '../inspector/page-html.js';
import { bodyPreview, harIds, sendBody, sendHar } from '../inspector/responses.js';
import { applyOutcome, type WireList, type WireOutcome, type WireRequest } from '../inspector/wire.js';
import { CHANNEL_ID_PATTERN } from '../protocol/index.js';
import { authorizeChannel } from './channel-auth.js';
import { parseCustomAnswer } from './custom-answer.js';
import { readBodyWithin } from './read-body.js';
import { sendJson } from './send-json.js';
import type { ChannelStore, EventLog, EventOutcome, StoredEvent } from './store.js';

/**
 * The channel page: `GET /inspect/<id>` serves the inspector for a channel's stored
 * events, so a team can look at its traffic from any browser without running `listen`.
 * The page holds no secret: the token is typed into it and sent as
 * `Authorization: Bearer` on every API call (never in a URL), and the API refuses a
 * wrong token as every other use of it does (channel-auth.ts).
 */

/** The newest this many events are listed. */
const LISTED_EVENTS = 500;
/** Per event, this much of the body is listed (the whole body comes from the body endpoint). */
const LISTED_BODY_BYTES = 64 * 1024;

export type InspectTarget =
  | { kind: 'asset'; name: string }
  | { kind: 'page'; id: string }
  | { kind: 'api'; id: string; route: string };

export interface InspectContext {
  store: ChannelStore;
  /** The channel's public URL (what senders post to). */
  channelUrl(req: IncomingMessage, id: string): string;
  /** A refused token (never the token itself). */
  onRefused(id: string): void;
}

/** `/inspect/...`, and `/channels/<id>/answer` (the custom answer, for the CLI); undefined for any other path. */
export function inspectTarget(url: string): InspectTarget | undefined {
  const path = url.split('?')[0] as string;
  const answer = /^\/channels\/([^/]+)\/answer$/.exec(path);
  if (answer) return { kind: 'api', id: answer[1] as string, route: 'answer' };
  const asset = /^\/inspect\/assets\/([\w.-]+)$/.exec(path);
  if (asset) return { kind: 'asset', name: asset[1] as string };
  const page = /^\/inspect\/([^/]+)\/?$/.exec(path);
  if (page) return { kind: 'page', id: page[1] as string };
  const api = /^\/inspect\/([^/]+)\/api\/(.+)$/.exec(path);
  if (api) return { kind: 'api', id: api[1] as string, route: api[2] as string };
  return undefined;
}

/** What the listener reported of an event on its retry schedule, as the page reads it. */
function wireOutcome(outcome: EventOutcome): WireOutcome {
  return {
    seq: outcome.seq,
    delivery: outcome.state,
    ...(outcome.status !== undefined ? { status: outcome.status } : {}),
    ...(outcome.attempts !== undefined ? { attempt: outcome.attempts } : {}),
    ...(outcome.nextAttemptAt !== undefined ? { nextAttemptAt: outcome.nextAttemptAt } : {}),
  };
}

type RelayRecord = CaptureRecord & WireRequest & { seq: number };

/**
 * A stored event as a capture record (what the inspector's helpers take), with the whole
 * body or a preview. Where it stands: what the listener's retry schedule reported, else
 * delivered once the listener acknowledged it, else queued.
 */
async function asRecord(
  event: StoredEvent,
  channel: string,
  log: EventLog,
  body: Pick<RelayRecord, 'body' | 'bodyEncoding' | 'bodySize' | 'bodyTruncated'> = encodeBody(event.body),
  outcomes?: ReadonlyMap<number, EventOutcome>,
): Promise<RelayRecord> {
  const record: RelayRecord = {
    id: `seq-${event.seq}`,
    receivedAt: event.receivedAt,
    method: event.method,
    path: event.path,
    headers: headersFromRaw(event.rawHeaders),
    ...body,
    // The relay has no signing secret: it cannot judge signatures.
    signature: 'unchecked',
    source: { kind: 'relay', channel, seq: event.seq },
    seq: event.seq,
    delivery: event.seq <= log.acked() ? 'delivered' : 'queued',
  };
  const outcome = (outcomes ?? (await log.outcomes(event.seq - 1))).get(event.seq);
  if (outcome) applyOutcome(record, wireOutcome(outcome));
  const name = eventOf(event.body);
  if (name !== undefined) record.event = name;
  return record;
}

/**
 * The newest LISTED_EVENTS events after `since` (the page's newest), oldest first, and
 * the retry outcomes of the whole window (the page's older rows change state too).
 */
async function listEvents(log: EventLog, channel: string, since: number): Promise<{ requests: WireRequest[]; outcomes: WireOutcome[] }> {
  const windowAfter = Math.max(log.first() - 1, log.head() - LISTED_EVENTS);
  const outcomes = await log.outcomes(windowAfter);
  const requests: WireRequest[] = [];
  for await (const event of log.read(Math.max(windowAfter, since))) {
    requests.push(await asRecord(event, channel, log, bodyPreview(event.body, LISTED_BODY_BYTES), outcomes));
    if (requests.length >= LISTED_EVENTS) break;
  }
  return { requests, outcomes: [...outcomes.values()].map(wireOutcome) };
}

async function findEvent(log: EventLog, id: string): Promise<StoredEvent | undefined> {
  const seq = Number(/^seq-(\d{1,15})$/.exec(id)?.[1] ?? Number.NaN);
  if (!Number.isSafeInteger(seq) || seq < 1) return undefined;
  for await (const event of log.read(seq - 1)) return event.seq === seq ? event : undefined;
  return undefined;
}

async function answerRoute(req: IncomingMessage, res: ServerResponse, id: string, store: ChannelStore): Promise<void> {
  if (!store.customAnswer || !store.setCustomAnswer) return sendJson(res, 501, { error: 'this relay\'s store keeps no custom answers' });
  if (req.method === 'GET') return sendJson(res, 200, (await store.customAnswer(id)) ?? null, { 'cache-control': 'no-store' });
  if (req.method === 'DELETE') {
    req.resume();
    if (!(await store.setCustomAnswer(id, undefined))) return sendJson(res, 404, { error: 'unknown channel' });
    return sendJson(res, 200, null);
  }
  if (req.method !== 'PUT') return sendJson(res, 405, { error: 'use GET, PUT or DELETE here' }, { allow: 'GET, PUT, DELETE' });
  const body = await readBodyWithin(req, 256 * 1024);
  if (body === 'too-large') return sendJson(res, 413, { error: 'the custom answer is too large' });
  const answer = parseCustomAnswer(body.toString('utf8'));
  if (typeof answer === 'string') return sendJson(res, 400, { error: answer });
  if (!(await store.setCustomAnswer(id, answer))) return sendJson(res, 404, { error: 'unknown channel' });
  sendJson(res, 200, answer);
}

async function apiRoute(req: IncomingMessage, res: ServerResponse, id: string, route: string, context: InspectContext): Promise<void> {
  if (route === 'answer') return answerRoute(req, res, id, context.store);
  const log = await context.store.log(id);
  if (!log) return sendJson(res, 404, { error: 'unknown channel' });
  if (route === 'requests' && req.method === 'GET') {
    // `?after=N`: only what came since the page's newest (it polls); the cursor moves its queued ones to delivered.
    const since = Number(new URL(req.url ?? '/', 'http://relay').searchParams.get('after') ?? 0);
    const { requests, outcomes } = await listEvents(log, id, Number.isSafeInteger(since) && since > 0 ? since : 0);
    const list: WireList = {
      mode: 'relay',
      webhookUrl: context.channelUrl(req, id),
      target: null,
      events: [...EVENT_NAMES],
      canSign: false,
      requests,
      acked: log.acked(),
      outcomes,
    };
    return sendJson(res, 200, list, { 'cache-control': 'no-store' });
  }
  if (route === 'har' && req.method === 'POST') {
    const body = await readBodyWithin(req, 1024 * 1024);
    const ids = harIds(body === 'too-large' ? null : body, LISTED_EVENTS);
    if (ids === null) return sendJson(res, 400, { error: 'expected {"ids": ["seq-1", ...]}' });
    return sendHar(res, (async function* () {
      const outcomes = await log.outcomes(0);
      for (const one of ids) {
        const event = await findEvent(log, one);
        if (event) yield await asRecord(event, id, log, undefined, outcomes);
      }
    })());
  }
  const match = /^requests\/(seq-\d{1,15})\/(body|curl|check)$/.exec(route);
  if (match && req.method === 'GET') {
    const event = await findEvent(log, match[1] as string);
    if (!event) return sendJson(res, 404, { error: 'no such event in this channel (dropped by retention?)' });
    if (match[2] === 'check') return sendJson(res, 200, schemaCheck(event.body));
    const record = await asRecord(event, id, log);
    if (match[2] === 'body') return sendBody(res, record);
    res
      .writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
      .end(captureAsCurl(record, context.channelUrl(req, id)));
    return;
  }
  sendJson(res, 404, { error: 'not found' });
}

export async function handleInspect(
  req: IncomingMessage,
  res: ServerResponse,
  target: InspectTarget,
  context: InspectContext,
): Promise<void> {
  if (target.kind === 'asset') {
    req.resume();
    if (req.method !== 'GET' || !isInspectorAsset(target.name)) return sendJson(res, 404, { error: 'not found' });
    return sendInspectorAsset(res, target.name);
  }
  if (!CHANNEL_ID_PATTERN.test(target.id)) {
    req.resume();
    return sendJson(res, 404, { error: 'unknown channel' });
  }
  if (target.kind === 'page') {
    req.resume();
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'use GET here' }, { allow: 'GET' });
    // The page itself holds nothing of the channel: everything comes through the API, with the token.
    res
      .writeHead(200, PAGE_HEADERS)
      .end(inspectorHtml({ mode: 'relay', apiBase: `/inspect/${target.id}/api`, assetBase: '/inspect/assets' }));
    return;
  }
  if (!(await authorizeChannel(req, res, target.id, context.store, () => context.onRefused(target.id)))) {
    req.resume();
    return;
  }
  await apiRoute(req, res, target.id, target.route, context);
}
