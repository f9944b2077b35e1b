import { applyOutcome, type WireList, type WireMessage, type WireRequest } from '../wire.js';
import { Api, RefusedError } from './api.js';
import { renderDetail } from './detail.js';
import { listRow } from './rows.js';
import { byId, el } from './dom.js';
import { setUpToolbar } from './toolbar.js';
import { filtersFromQuery, filtersToQuery, matches, type Filters } from './filters.js';

/** As many as the server keeps in its window. */
const MAX_ITEMS = 500;
/** The relay's page polls for new events and delivery states this often. */
const RELAY_POLL_MS = 2000;


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

function rowFor(r: WireRequest): HTMLTableRowElement {
  return listRow(r, r.id === state.marked, () => select(r.id));
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

/**
 * Queued events at or below the listener's cursor have been delivered since, unless the
 * listener's retry schedule says otherwise (retrying, then delivered or failed).
 */
function updateDelivery(info: WireList): void {
  const outcomes = new Map((info.outcomes ?? []).map((outcome) => [outcome.seq, outcome]));
  for (const r of state.items) {
    if (r.seq === undefined) continue;
    const before = JSON.stringify([r.delivery, r.attempt, r.appStatus, r.nextAttemptAt]);
    const outcome = outcomes.get(r.seq);
    if (outcome) applyOutcome(r, outcome);
    else if (r.delivery === 'queued' && info.acked !== undefined && r.seq <= info.acked) r.delivery = 'delivered';
    if (JSON.stringify([r.delivery, r.attempt, r.appStatus, r.nextAttemptAt]) !== before) redraw(r);
  }
  updateCount();
}

function pollRelay(): void {
  const newest = state.items[state.items.length - 1]?.seq ?? 0;
  state.api.list(newest).then(
    (info) => {
      byId('status').textContent = 'live';
      info.requests.forEach(add);
      updateDelivery(info);
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
  setUpToolbar(info, {
    filters: state.filters,
    api: () => state.api,
    shownIds: () => state.items.filter(isShown).map((r) => r.id),
    onFilter: applyFilters,
    onCleared: clearList,
  });
  document.addEventListener('keydown', onKey);
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
