import type { WireList, WireMessage, WireRequest } from '../wire.js';
import { Api, RefusedError, saveBlob } from './api.js';
import { answerEditor } from './custom-answer.js';
import { VERDICT, renderDetail, statusOf } from './detail.js';
import { button, byId, el } from './dom.js';
import { filtersFromQuery, filtersToQuery, matches, type Filters } from './filters.js';

/** As many as the server keeps in its window. */
const MAX_ITEMS = 500;
/** The relay's page polls for new events and delivery states this often. */
const RELAY_POLL_MS = 2000;

const FILTER_OPTIONS: Record<Exclude<keyof Filters, 'q' | 'event'>, string[]> = {
  method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  status: ['2xx', '3xx', '4xx', '5xx', 'none'],
  signature: ['valid', 'invalid', 'unsigned', 'unchecked'],
  delivery: ['forwarded', 'failed', 'redelivery'],
};

interface State {
  api: Api;
  info: WireList | null;
  items: WireRequest[];
  byId: Map<string, WireRequest>;
  rows: Map<string, HTMLTableRowElement>;
  selected: string | null;
  marked: string | null;
  filters: Filters;
  known: Set<string>;
  ws: WebSocket | null;
}

const mode = document.body.dataset.mode === 'relay' ? 'relay' : 'listen';
const apiBase = document.body.dataset.api ?? '/api';
/** One token per channel, for this tab only (sessionStorage), never in a URL. */
const TOKEN_KEY = `fe-webhooks-token:${apiBase}`;
const state: State = {
  api: new Api(apiBase, null),
  info: null,
  items: [],
  byId: new Map(),
  rows: new Map(),
  selected: null,
  marked: null,
  filters: filtersFromQuery(location.search),
  known: new Set(),
  ws: null,
};
// Tests reach the live socket through this (to drop it on purpose).
(globalThis as unknown as { state: State }).state = state;

/** HH:MM:SS, local time, 24-hour: the same width in every locale (the column is sized for it). */
function time(iso: string): string {
  const at = new Date(iso);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function rowFor(r: WireRequest): HTMLTableRowElement {
  const status = statusOf(r) || (r.delivery ?? '');
  const eventCell = el('td', { text: r.event ?? '–', title: r.event ?? '' });
  const tr = el('tr', { 'data-id': r.id }, [
    el('td', { text: time(r.receivedAt), title: r.receivedAt }),
    el('td', { text: r.method }),
    // Long paths are cut by CSS; the whole path is on hover.
    el('td', { class: 'path', text: r.path, title: r.path }),
    eventCell,
    el('td', { class: r.signature, text: VERDICT[r.signature] ?? r.signature }),
    el('td', { class: `s${status.charAt(0)}`, text: status, title: r.delivery ?? '' }),
  ]);
  if (r.id === state.marked) tr.classList.add('marked');
  tr.addEventListener('click', () => select(r.id));
  return tr;
}

function isShown(r: WireRequest): boolean {
  return matches(r, state.filters, state.known);
}

function updateCount(): void {
  const shown = state.items.filter(isShown).length;
  byId('count').textContent = `${shown} of ${state.items.length}`;
  byId('empty').hidden = state.items.length > 0;
}

function redraw(r: WireRequest): void {
  const tr = rowFor(r);
  tr.hidden = !isShown(r);
  tr.classList.toggle('selected', state.selected === r.id);
  state.rows.get(r.id)?.replaceWith(tr);
  state.rows.set(r.id, tr);
}

function add(r: WireRequest): void {
  if (state.byId.has(r.id)) return;
  state.items.push(r);
  state.byId.set(r.id, r);
  const tr = rowFor(r);
  tr.hidden = !isShown(r);
  state.rows.set(r.id, tr);
  byId('rows').prepend(tr);
  while (state.items.length > MAX_ITEMS) {
    const old = state.items.shift() as WireRequest;
    state.byId.delete(old.id);
    state.rows.get(old.id)?.remove();
    state.rows.delete(old.id);
  }
  updateCount();
}

function clearList(): void {
  state.items = [];
  state.byId.clear();
  state.rows.clear();
  state.selected = null;
  state.marked = null;
  byId('rows').textContent = '';
  byId('details').replaceChildren(el('p', { class: 'muted', text: 'Cleared. Waiting for requests…' }));
  updateCount();
}

function applyFilters(): void {
  for (const r of state.items) {
    const tr = state.rows.get(r.id);
    if (tr) tr.hidden = !isShown(r);
  }
  history.replaceState(null, '', `${location.pathname}${filtersToQuery(state.filters)}`);
  updateCount();
}

function select(id: string | null): void {
  state.selected = id;
  for (const [rowId, tr] of state.rows) tr.classList.toggle('selected', rowId === id);
  const r = id === null ? undefined : state.byId.get(id);
  if (r === undefined || state.info === null) return;
  state.rows.get(r.id)?.scrollIntoView({ block: 'nearest' });
  renderDetail(byId('details'), r, {
    api: state.api,
    info: state.info,
    marked: state.marked === null ? undefined : state.byId.get(state.marked),
    mark(markId) {
      state.marked = markId;
      for (const [rowId, tr] of state.rows) tr.classList.toggle('marked', rowId === markId);
      select(r.id);
    },
  });
}

/** j/k: the next/previous shown request (the list is newest first); /: search. */
function onKey(event: KeyboardEvent): void {
  const target = event.target as HTMLElement;
  if (target.matches('input, textarea, select')) {
    if (event.key === 'Escape') target.blur();
    return;
  }
  if (event.key === '/') {
    event.preventDefault();
    byId<HTMLInputElement>('search').focus();
    return;
  }
  if (event.key !== 'j' && event.key !== 'k') return;
  const shown = [...byId('rows').children].filter((tr) => !(tr as HTMLElement).hidden).map((tr) => tr.getAttribute('data-id') as string);
  if (shown.length === 0) return;
  const at = state.selected === null ? -1 : shown.indexOf(state.selected);
  const next = event.key === 'j' ? Math.min(at + 1, shown.length - 1) : Math.max(at - 1, 0);
  select(shown[next] ?? null);
}

function fillSelect(id: string, values: string[], selected: string): void {
  const node = byId<HTMLSelectElement>(id);
  for (const value of values) node.append(el('option', { value, text: value }));
  node.value = selected;
}

function setUpToolbar(info: WireList): void {
  const search = byId<HTMLInputElement>('search');
  search.value = state.filters.q;
  search.addEventListener('input', () => {
    state.filters.q = search.value;
    applyFilters();
  });
  // The nine known events, then `other` for any other value: a sender's string never becomes an option.
  fillSelect('filter-event', [...info.events, 'other', 'none'], state.filters.event);
  const delivery = info.mode === 'relay' ? ['queued', 'delivered', 'failed'] : FILTER_OPTIONS.delivery;
  for (const [key, values] of Object.entries({ ...FILTER_OPTIONS, delivery }) as Array<[keyof Filters, string[]]>) {
    fillSelect(`filter-${key}`, values, state.filters[key]);
  }
  for (const key of ['event', 'method', 'status', 'signature', 'delivery'] as const) {
    const node = byId<HTMLSelectElement>(`filter-${key}`);
    node.addEventListener('change', () => {
      state.filters[key] = node.value;
      applyFilters();
    });
  }
  const actions = byId('actions');
  const result = el('span', { id: 'action-result', class: 'muted' });
  if (info.mode === 'listen') {
    const picker = el('select', { id: 'test-event', 'aria-label': 'test event' }, info.events.map((name) => el('option', { value: name, text: name })));
    const send = button('send-test', 'Send test event', () => {
      result.textContent = 'sending…';
      state.api.sendTestEvent(picker.value).then(
        (out) => (result.textContent = out.error !== undefined ? `failed: ${out.error}` : `test event → ${out.status}`),
        (e: Error) => (result.textContent = `failed: ${e.message}`),
      );
    });
    if (!info.canSign) send.title = "listen has no secret: the test event goes unsigned";
    actions.append(picker, send);
  }
  actions.append(
    button('export-har', 'Export HAR', () => {
      const ids = state.items.filter(isShown).map((r) => r.id);
      state.api.har(ids).then((blob) => saveBlob(blob, 'fe-webhooks-inspector.har'), (e: Error) => (result.textContent = `export failed: ${e.message}`));
    }),
  );
  if (info.mode === 'listen') {
    actions.append(button('clear', 'Clear', () => void state.api.clear().then(clearList, (e: Error) => (result.textContent = `clear failed: ${e.message}`))));
  } else {
    actions.append(button('custom-answer', 'Custom answer', () => byId('details').replaceChildren(answerEditor(state.api))));
  }
  actions.append(result);
  document.addEventListener('keydown', onKey);
}

function connectLive(): void {
  // The server first sends what came after the newest request shown (missed while away).
  const last = state.items[state.items.length - 1];
  const ws = new WebSocket(`ws://${location.host}/ws${last ? `?after=${encodeURIComponent(last.id)}` : ''}`);
  state.ws = ws;
  ws.onopen = () => (byId('status').textContent = 'live');
  ws.onmessage = (m: MessageEvent<string>) => {
    const message = JSON.parse(m.data) as WireMessage;
    if (message.type === 'request') add(message.request);
    else if (message.type === 'cleared') clearList();
  };
  ws.onclose = () => {
    byId('status').textContent = 'disconnected, retrying…';
    setTimeout(connectLive, 1000);
  };
}

/** Queued events at or below the listener's cursor have been delivered since. */
function markDelivered(acked: number): void {
  for (const r of state.items) {
    if (r.delivery === 'queued' && r.seq !== undefined && r.seq <= acked) {
      r.delivery = 'delivered';
      redraw(r);
    }
  }
  updateCount();
}

function pollRelay(): void {
  const newest = state.items[state.items.length - 1]?.seq ?? 0;
  state.api.list(newest).then(
    (info) => {
      byId('status').textContent = 'live';
      info.requests.forEach(add);
      if (info.acked !== undefined) markDelivered(info.acked);
      setTimeout(pollRelay, RELAY_POLL_MS);
    },
    (error: Error) => {
      if (error instanceof RefusedError) return refuse(error.message);
      byId('status').textContent = 'disconnected, retrying…';
      setTimeout(pollRelay, RELAY_POLL_MS);
    },
  );
}

function start(info: WireList): void {
  state.info = info;
  state.known = new Set(info.events);
  byId('webhook-url').textContent = info.webhookUrl;
  byId('target').textContent = info.target ?? 'none';
  byId('toolbar').hidden = false;
  byId('main').hidden = false;
  setUpToolbar(info);
  info.requests.forEach(add);
  updateCount();
  if (info.mode === 'listen') connectLive();
  else setTimeout(pollRelay, RELAY_POLL_MS);
}

/** A refused token: nothing of the channel stays on the page. */
function refuse(message: string): void {
  sessionStorage.removeItem(TOKEN_KEY);
  clearList();
  byId('toolbar').hidden = true;
  byId('main').hidden = true;
  byId('status').textContent = '';
  const refused = byId('refused');
  refused.textContent = `The relay refused this token: ${message}.`;
  refused.hidden = false;
  askToken();
}

function askToken(): void {
  const form = byId<HTMLFormElement>('token-form');
  form.hidden = false;
  byId<HTMLInputElement>('token').focus();
}

function openRelay(token: string): void {
  state.api = new Api(apiBase, token);
  state.api.list().then(
    (info) => {
      sessionStorage.setItem(TOKEN_KEY, token);
      byId('token-form').hidden = true;
      byId('refused').hidden = true;
      start(info);
    },
    (error: Error) => (error instanceof RefusedError ? refuse(error.message) : (byId('status').textContent = `failed: ${error.message}`)),
  );
}

if (mode === 'relay') {
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    openRelay(byId<HTMLInputElement>('token').value.trim());
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved !== null) openRelay(saved);
  else askToken();
} else {
  state.api.list().then(start, (error: Error) => (byId('status').textContent = `failed: ${error.message}`));
}
