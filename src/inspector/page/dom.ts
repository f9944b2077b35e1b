/**
 * Builds elements with text set through textContent only: nothing a sender controls
 * ever becomes markup.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, string> & { text?: string } = {},
  children: Array<Node | string> = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`#${id} is missing from the page`);
  return node as T;
}

/** A two-column table of name/value pairs. */
export function kvTable(pairs: Array<[string, string]>, id?: string): HTMLTableElement {
  const table = el(
    'table',
    id === undefined ? { class: 'kv' } : { class: 'kv', id },
    pairs.map(([name, value]) => el('tr', {}, [el('td', { text: name }), el('td', { text: value })])),
  );
  return table;
}

export function button(id: string, text: string, onClick: () => void): HTMLButtonElement {
  const node = el('button', { id, type: 'button', text });
  node.addEventListener('click', onClick);
  return node;
}
