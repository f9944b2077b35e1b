import type { WireCustomAnswer } from '../wire.js';
import type { Api } from './api.js';
import { button, el } from './dom.js';

/** The relay's answer while no listener is connected: status, content type, body and delay. */
export function answerEditor(api: Api): HTMLElement {
  const status = el('input', { id: 'answer-status', type: 'number', min: '100', max: '599', value: '202' });
  const contentType = el('input', { id: 'answer-type', value: 'application/json', size: '30' });
  const delay = el('input', { id: 'answer-delay', type: 'number', min: '0', max: '10000', value: '0' });
  const body = el('textarea', { id: 'answer-body-input', rows: '6', spellcheck: 'false' });
  const result = el('span', { id: 'answer-result', class: 'muted' });
  const show = (answer: WireCustomAnswer | null): void => {
    status.value = String(answer?.status ?? 202);
    contentType.value = answer?.contentType ?? 'application/json';
    delay.value = String(answer?.delayMs ?? 0);
    body.value = answer?.body ?? '';
    result.textContent = answer === null ? 'default: 202 queued' : `custom: ${answer.status} after ${answer.delayMs} ms`;
  };
  api.customAnswer().then(show, (e: Error) => (result.textContent = `failed: ${e.message}`));
  const save = button('answer-save', 'Save', () => {
    const answer: WireCustomAnswer = {
      status: Number(status.value),
      contentType: contentType.value,
      body: body.value,
      delayMs: Number(delay.value),
    };
    api.setCustomAnswer(answer).then(show, (e: Error) => (result.textContent = `failed: ${e.message}`));
  });
  const reset = button('answer-reset', 'Back to 202', () =>
    api.setCustomAnswer(null).then(show, (e: Error) => (result.textContent = `failed: ${e.message}`)),
  );
  return el('div', { id: 'answer-editor' }, [
    el('h2', { text: 'Answer while no listener is connected' }),
    el('p', {
      class: 'muted',
      text: 'Senders get this instead of 202 while nobody listens; the event is still stored and delivered later. Delay at most 10 s.',
    }),
    el('div', { class: 'bar' }, [
      el('label', {}, ['Status ', status]),
      el('label', {}, ['Content type ', contentType]),
      el('label', {}, ['Delay (ms) ', delay]),
    ]),
    body,
    el('div', { class: 'bar' }, [save, reset, result]),
  ]);
}
