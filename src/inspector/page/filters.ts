import type { WireRequest } from '../wire.js';

/** The list's filters; every field '' means "any". Kept in the page's URL. */
export interface Filters {
  /** Full text over path, headers and body, case-insensitive. */
  q: string;
  /** A known event name, `other` (an event the catalogue does not know) or `none`. */
  event: string;
  method: string;
  /** 2xx, 3xx, 4xx, 5xx or none. */
  status: string;
  /** valid, invalid, unsigned or unchecked. */
  signature: string;
  /** forwarded, failed, redelivery; on the relay queued, delivered, retrying, failed, redelivery. */
  delivery: string;
}

export const EMPTY_FILTERS: Filters = { q: '', event: '', method: '', status: '', signature: '', delivery: '' };
const KEYS = Object.keys(EMPTY_FILTERS) as Array<keyof Filters>;

export function filtersFromQuery(search: string): Filters {
  const params = new URLSearchParams(search);
  const filters = { ...EMPTY_FILTERS };
  for (const key of KEYS) filters[key] = params.get(key) ?? '';
  return filters;
}

/** `?q=...&event=...`, only the fields set; '' when none is. */
export function filtersToQuery(filters: Filters): string {
  const params = new URLSearchParams();
  for (const key of KEYS) if (filters[key] !== '') params.set(key, filters[key]);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The event filter's group of a request: its name when known, else `other`, or `none`. */
export function eventGroup(request: WireRequest, known: ReadonlySet<string>): string {
  if (request.event === undefined) return 'none';
  return known.has(request.event) ? request.event : 'other';
}

/** The status the sender got, by class. */
export function statusClass(request: WireRequest): string {
  const status = request.responseStatus ?? request.forward?.status;
  return status === undefined ? 'none' : `${String(status).charAt(0)}xx`;
}

/** Every delivery state a request is in (a redelivery can also have been forwarded). */
export function deliveryStates(request: WireRequest): string[] {
  const states: string[] = [];
  if (request.forward?.status !== undefined) states.push('forwarded');
  if (request.forward?.error !== undefined || request.failed === true || request.delivery === 'failed') states.push('failed');
  if (request.redelivery === true) states.push('redelivery');
  if (request.delivery === 'queued' || request.delivery === 'delivered' || request.delivery === 'retrying') states.push(request.delivery);
  return states;
}

const searchText = new WeakMap<WireRequest, string>();

/** What full-text search looks in: path, headers (`name: value`) and the body, lower-cased once. */
function textOf(request: WireRequest): string {
  let text = searchText.get(request);
  if (text === undefined) {
    const headers = Object.entries(request.headers).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((one) => `${name}: ${one}`),
    );
    text = [request.path, ...headers, request.bodyEncoding === 'utf8' ? request.body : ''].join('\n').toLowerCase();
    searchText.set(request, text);
  }
  return text;
}

export function matches(request: WireRequest, filters: Filters, known: ReadonlySet<string>): boolean {
  if (filters.event !== '' && eventGroup(request, known) !== filters.event) return false;
  if (filters.method !== '' && request.method !== filters.method) return false;
  if (filters.status !== '' && statusClass(request) !== filters.status) return false;
  if (filters.signature !== '' && request.signature !== filters.signature) return false;
  if (filters.delivery !== '' && !deliveryStates(request).includes(filters.delivery)) return false;
  if (filters.q !== '' && !textOf(request).includes(filters.q.toLowerCase())) return false;
  return true;
}
