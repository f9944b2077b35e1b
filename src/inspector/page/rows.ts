import type { WireRequest } from '../wire.js';
import { VERDICT, statusOf } from './detail.js';
import { el } from './dom.js';

/** HH:MM:SS, local time, 24-hour: the same width in every locale (the column is sized for it). */
function time(iso: string): string {
  const at = new Date(iso);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** One row of the list: time, method, path, event, signature, status (or delivery state). */
export function listRow(r: WireRequest, marked: boolean, onClick: () => void): HTMLTableRowElement {
  const shown = statusOf(r) || (r.delivery ?? '');
  const status = r.failed === true && shown !== 'failed' ? `${shown} failed` : shown;
  const tr = el('tr', { 'data-id': r.id }, [
    el('td', { text: time(r.receivedAt), title: r.receivedAt }),
    el('td', { text: r.method }),
    // Long paths are cut by CSS; the whole path is on hover.
    el('td', { class: 'path', text: r.path, title: r.path }),
    el('td', { text: r.event ?? '–', title: r.event ?? '' }),
    el('td', { class: r.signature, text: VERDICT[r.signature] ?? r.signature }),
    el('td', { class: `s${status.charAt(0)}`, text: status, title: r.delivery ?? '' }),
  ]);
  if (marked) tr.classList.add('marked');
  tr.addEventListener('click', onClick);
  return tr;
}
