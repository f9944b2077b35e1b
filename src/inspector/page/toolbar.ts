import type { WireList } from '../wire.js';
import { saveBlob, type Api } from './api.js';
import { answerEditor } from './custom-answer.js';
import { button, byId, el } from './dom.js';
import type { Filters } from './filters.js';

const FILTER_OPTIONS: Record<Exclude<keyof Filters, 'q' | 'event'>, string[]> = {
  method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  status: ['2xx', '3xx', '4xx', '5xx', 'none'],
  signature: ['valid', 'invalid', 'unsigned', 'unchecked'],
  delivery: ['forwarded', 'failed', 'redelivery'],
};

function fillSelect(id: string, values: string[], selected: string): void {
  const node = byId<HTMLSelectElement>(id);
  for (const value of values) node.append(el('option', { value, text: value }));
  node.value = selected;
}

/** What the toolbar works on: the page's filters and list, and its API. */
export interface ToolbarContext {
  /** Changed in place as the controls change. */
  filters: Filters;
  /** The API (on the relay it changes when another token is typed). */
  api(): Api;
  /** The requests the list shows now, oldest first (what Export HAR saves). */
  shownIds(): string[];
  onFilter(): void;
  onCleared(): void;
}

/** Search, filters (set from the page's URL) and the page-wide actions. */
export function setUpToolbar(info: WireList, ctx: ToolbarContext): void {
  const search = byId<HTMLInputElement>('search');
  search.value = ctx.filters.q;
  search.addEventListener('input', () => {
    ctx.filters.q = search.value;
    ctx.onFilter();
  });
  // The nine known events, then `other` for any other value: a sender's string never becomes an option.
  fillSelect('filter-event', [...info.events, 'other', 'none'], ctx.filters.event);
  const delivery = info.mode === 'relay' ? ['queued', 'delivered', 'retrying', 'failed', 'redelivery'] : FILTER_OPTIONS.delivery;
  for (const [key, values] of Object.entries({ ...FILTER_OPTIONS, delivery }) as Array<[keyof Filters, string[]]>) {
    fillSelect(`filter-${key}`, values, ctx.filters[key]);
  }
  for (const key of ['event', 'method', 'status', 'signature', 'delivery'] as const) {
    const node = byId<HTMLSelectElement>(`filter-${key}`);
    node.addEventListener('change', () => {
      ctx.filters[key] = node.value;
      ctx.onFilter();
    });
  }
  const actions = byId('actions');
  const result = el('span', { id: 'action-result', class: 'muted' });
  if (info.mode === 'listen') {
    const picker = el(
      'select',
      { id: 'test-event', 'aria-label': 'test event' },
      info.events.map((name) => el('option', { value: name, text: name })),
    );
    const send = button('send-test', 'Send test event', () => {
      result.textContent = 'sending…';
      ctx.api().sendTestEvent(picker.value).then(
        (out) => (result.textContent = out.error !== undefined ? `failed: ${out.error}` : `test event → ${out.status}`),
        (e: Error) => (result.textContent = `failed: ${e.message}`),
      );
    });
    if (!info.canSign) send.title = "listen has no secret: the test event goes unsigned";
    actions.append(picker, send);
  }
  actions.append(
    button('export-har', 'Export HAR', () => {
      ctx
        .api()
        .har(ctx.shownIds())
        .then(
          (blob) => saveBlob(blob, 'fe-webhooks-inspector.har'),
          (e: Error) => (result.textContent = `export failed: ${e.message}`),
        );
    }),
  );
  if (info.mode === 'listen') {
    actions.append(
      button(
        'clear',
        'Clear',
        () =>
          void ctx
            .api()
            .clear()
            .then(ctx.onCleared, (e: Error) => (result.textContent = `clear failed: ${e.message}`)),
      ),
    );
  } else {
    actions.append(button('custom-answer', 'Custom answer', () => byId('details').replaceChildren(answerEditor(ctx.api()))));
  }
  actions.append(result);
}
