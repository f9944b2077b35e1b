import type { WireList, WireRequest, WireSendResult } from '../wire.js';
import { saveBlob, type Api } from './api.js';
import { bodyBytes, formPairs, headerPairs, hexDump, prettyJson, queryPairs } from './body.js';
import { lineDiff } from './diff.js';
import { button, el, kvTable } from './dom.js';
import { deliveryStates } from './filters.js';

export const VERDICT: Record<string, string> = {
  valid: '✓ valid',
  invalid: '✗ invalid',
  unsigned: '– unsigned',
  unchecked: '– not checked',
};

export interface DetailContext {
  api: Api;
  info: WireList;
  /** The request marked for a diff, if any. */
  marked: WireRequest | undefined;
  mark(id: string | null): void;
}

export function statusOf(r: WireRequest): string {
  const status = r.responseStatus ?? r.forward?.status;
  return status === undefined ? '' : String(status);
}

function forwardText(r: WireRequest): string {
  if (r.delivery !== undefined) return r.appStatus === undefined ? r.delivery : `${r.delivery} (the app answered ${r.appStatus} last)`;
  if (!r.forward) return r.rejected ? `rejected: ${r.rejected}` : `answered ${statusOf(r)} (no target)`;
  if (r.forward.error) return `${r.forward.error} (${Math.round(r.forward.latencyMs)} ms)`;
  return `${r.forward.status} in ${r.forward.latencyMs} ms`;
}

function sendText(out: WireSendResult): string {
  return out.error !== undefined ? `failed: ${out.error}` : `→ ${out.status} in ${out.latencyMs} ms`;
}

/** The text of a body when it is UTF-8 and whole; null otherwise. */
function wholeText(r: WireRequest): string | null {
  return r.bodyEncoding === 'utf8' && r.bodyTruncated !== true ? r.body : null;
}

function section(title: string, ...nodes: Node[]): Node[] {
  return [el('h3', { text: title }), ...nodes];
}

/** Pretty, raw and hex views of the body, one shown at a time. */
function bodyViews(r: WireRequest): Node[] {
  const bytes = bodyBytes(r);
  const text = r.bodyEncoding === 'utf8' ? r.body : null;
  const pretty = text === null || r.bodyTruncated === true ? null : prettyJson(text);
  const raw = text ?? `(${r.bodySize} bytes that are not UTF-8: see the hex view)`;
  const views: Array<[string, string, string]> = [];
  if (pretty !== null) views.push(['pretty', 'Pretty', pretty]);
  views.push(['raw', 'Raw', raw], ['hex', 'Hex', hexDump(bytes)]);
  const initial = r.bodyEncoding === 'base64' ? 'hex' : (views[0] as [string, string, string])[0];
  const pres = views.map(([id, , content]) => el('pre', { id, class: id === 'hex' ? 'hex' : '', text: content }));
  const tabs = el('div', { class: 'bar tabs' });
  const show = (which: string): void => {
    pres.forEach((pre) => (pre.hidden = pre.id !== which));
    tabs.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.view === which)));
  };
  for (const [id, label] of views) {
    const tab = button(`view-${id}`, label, () => show(id));
    tab.dataset.view = id;
    tabs.append(tab);
  }
  show(initial);
  const note =
    r.bodyTruncated === true
      ? [
          el('p', {
            class: 'muted',
            text: `Showing the first ${r.body.length} characters of ${r.bodySize} bytes; download the body for all of it.`,
          }),
        ]
      : [];
  return section(`Body (${r.bodySize} bytes)`, tabs, ...note, ...pres);
}

/** The schema verdict, filled in from the server (the same checks as `verify`). */
function schemaSection(r: WireRequest, ctx: DetailContext): Node[] {
  const box = el('div', { id: 'schema', class: 'muted', text: 'checking…' });
  ctx.api.check(r.id).then(
    (check) => {
      box.textContent = '';
      box.className = '';
      if (!check.json) box.append(el('span', { class: 'muted', text: 'not JSON: no schema to check' }));
      else if (check.violations.length === 0) box.append(el('span', { class: 'valid', text: `✓ matches the ${check.event ?? ''} schema` }));
      else
        box.append(
          el(
            'ul',
            {},
            check.violations.map((v) => el('li', { class: 'violation' }, [el('code', { text: v.path }), ` ${v.message}`])),
          ),
        );
    },
    (error: Error) => (box.textContent = `could not check: ${error.message}`),
  );
  return section('Schema', box);
}

function answerSection(r: WireRequest): Node[] {
  const f = r.forward;
  if (f === undefined) return [];
  const nodes: Node[] = [
    kvTable([
      ['target', f.target],
      ['status', f.status === undefined ? `none (${f.error ?? 'no answer'})` : String(f.status)],
      ['latency', `${f.latencyMs} ms`],
    ]),
  ];
  if (f.answer !== undefined) {
    nodes.push(el('h3', { text: 'Answer headers' }), kvTable(headerPairs(f.answer.headers)));
    const bytes = bodyBytes(f.answer);
    const shown = f.answer.bodyEncoding === 'utf8' ? f.answer.body : hexDump(bytes);
    const of =
      f.answer.bodySize > bytes.length ? ` (first ${bytes.length} of ${f.answer.bodySize} bytes)` : ` (${f.answer.bodySize} bytes)`;
    nodes.push(el('h3', { text: `Answer body${of}` }), el('pre', { id: 'answer-body', text: shown }));
  }
  return [el('h3', { text: "The app's answer" }), el('div', { id: 'answer' }, nodes)];
}

/** A line diff of two requests: request line, headers, then the body (pretty when JSON). */
function diffView(left: WireRequest, right: WireRequest): HTMLElement {
  const lines = (r: WireRequest): string[] => {
    const text = wholeText(r);
    const body = text === null ? hexDump(bodyBytes(r)) : (prettyJson(text) ?? text);
    return [`${r.method} ${r.path}`, ...headerPairs(r.headers).map(([n, v]) => `${n}: ${v}`), '', ...body.split('\n')];
  };
  const rows = lineDiff(lines(left), lines(right)).map((line) =>
    el('div', { class: line.kind === '+' ? 'add' : line.kind === '-' ? 'del' : '', text: `${line.kind} ${line.text}` }),
  );
  return el('div', { id: 'diff-view' }, [el('h3', { text: `Diff: ${left.id} (−) → ${right.id} (+)` }), el('pre', { class: 'diff' }, rows)]);
}

/** The details of one request, with what can be done with it. */
export function renderDetail(container: HTMLElement, r: WireRequest, ctx: DetailContext): void {
  container.textContent = '';
  const { api, info } = ctx;
  const result = el('span', { id: 'replay-result', class: 'muted' });
  const bar = el('div', { class: 'bar' });
  const listen = info.mode === 'listen';
  if (listen) {
    const replay = button('replay', 'Replay to target', () => {
      result.textContent = 'replaying…';
      api.replay(r.id).then((out) => (result.textContent = sendText(out)), (e: Error) => (result.textContent = `failed: ${e.message}`));
    });
    if (info.target === null) {
      replay.disabled = true;
      replay.title = 'start listen with --forward to replay';
    }
    bar.append(replay);
  }
  const editBox = el('div', { id: 'edit-box', hidden: '' });
  if (listen) {
    const edit = button('edit', 'Edit and replay', () => {
      editBox.hidden = !editBox.hidden;
    });
    const text = wholeText(r);
    if (info.target === null || !info.canSign || text === null) {
      edit.disabled = true;
      edit.title =
        info.target === null
          ? 'start listen with --forward to replay'
          : text === null
            ? 'only a whole UTF-8 body can be edited here'
            : 'listen has no secret to sign with';
    }
    const area = el('textarea', { id: 'edit-body', rows: '12', spellcheck: 'false' });
    area.value = text ?? '';
    const editResult = el('span', { id: 'edit-result', class: 'muted' });
    const send = button('edit-send', 'Sign and send', () => {
      editResult.textContent = 'sending…';
      api.replayEdited(r.id, area.value).then(
        (out) => (editResult.textContent = sendText(out)),
        (e: Error) => (editResult.textContent = `failed: ${e.message}`),
      );
    });
    editBox.append(
      el('p', {
        class: 'muted',
        text: "The edited bytes are signed with listen's secret and sent to the target with the original headers.",
      }),
      area,
      el('div', { class: 'bar' }, [send, editResult]),
    );
    bar.append(edit);
  }
  const curl = el('textarea', { id: 'curl', rows: '4', readonly: 'readonly', hidden: '' });
  const copy = button('copy-curl', 'Copy as curl', () => {
    // The server builds the command from the whole body (the page may hold only a preview).
    api.curl(r.id).then(
      async (text) => {
        curl.value = text;
        curl.hidden = false;
        curl.select();
        if (navigator.clipboard) await navigator.clipboard.writeText(text).then(() => (copy.textContent = 'Copied'), () => undefined);
      },
      (e: Error) => (copy.textContent = `Copy failed: ${e.message}`),
    );
  });
  const download = button('download-body', 'Download body', () => {
    api.body(r.id).then((blob) => saveBlob(blob, `${r.id}.body`), (e: Error) => (result.textContent = `download failed: ${e.message}`));
  });
  const isMarked = ctx.marked?.id === r.id;
  const mark = button('mark', isMarked ? 'Unmark' : 'Mark for diff', () => ctx.mark(isMarked ? null : r.id));
  bar.append(copy, download, mark);
  const diffBox = el('div', {});
  if (ctx.marked !== undefined && !isMarked) {
    const left = ctx.marked;
    bar.append(button('diff', `Diff with marked (${left.path})`, () => diffBox.replaceChildren(diffView(left, r))));
  }
  bar.append(result);

  const badges: Node[] = [];
  if (r.redelivery === true) badges.push(el('span', { class: 'badge', id: 'redelivery-mark', text: 'redelivery' }));
  if (r.delivery !== undefined) badges.push(el('span', { class: 'badge', text: r.delivery }));
  const summary: Array<[string, string]> = [
    ['id', r.id],
    ['received', r.receivedAt],
    ['event', r.event ?? '–'],
    ['signature', VERDICT[r.signature] ?? r.signature],
    [r.delivery !== undefined ? 'delivery' : 'forward', forwardText(r)],
  ];
  if (statusOf(r) !== '') summary.push(['answered', statusOf(r)]);
  const seq = r.seq ?? (r.source?.kind === 'relay' ? r.source.seq : undefined);
  if (seq !== undefined) summary.push(['relay seq', String(seq)]);
  if (r.redelivery === true) {
    const retried = r.delivery !== undefined && (r.attempt ?? 1) > 1;
    const why = retried ? "yes: the listener retried it on FrontEngine's schedule" : 'yes: the relay sent this event before';
    summary.push(['redelivery', why]);
  }
  if (r.attempt !== undefined) summary.push(['retries', attemptText(r)]);
  const states = deliveryStates(r);
  if (states.length > 0) summary.push(['states', states.join(', ')]);
  summary.push(['body', `${r.bodySize} bytes, ${r.bodyEncoding}${r.bodyTruncated === true ? ' (preview)' : ''}`]);

  const nodes: Node[] = [el('h2', { text: `${r.method} ${r.path}` }, badges), bar, curl, editBox, diffBox, kvTable(summary, 'summary')];
  const query = queryPairs(r.path);
  if (query.length > 0) nodes.push(...section('Query', kvTable(query, 'query')));
  const form = formPairs(r.headers, wholeText(r));
  if (form !== null) nodes.push(...section('Form fields', kvTable(form, 'form')));
  nodes.push(...section('Headers', kvTable(headerPairs(r.headers), 'headers')));
  nodes.push(...schemaSection(r, ctx));
  nodes.push(...answerSection(r));
  nodes.push(...bodyViews(r));
  container.append(...nodes);
}


/** A stored relay event on FrontEngine's retry schedule: which attempt, and what comes next. */
function attemptText(r: WireRequest): string {
  if (r.failed === true || r.delivery === 'failed') return `attempt ${r.attempt}: FAILED, no retries left (replay it)`;
  return `attempt ${r.attempt}${r.nextAttemptAt !== undefined ? `, next at ${new Date(r.nextAttemptAt).toLocaleTimeString()}` : ''}`;
}
