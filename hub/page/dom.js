// The page's DOM helpers and number formats: text goes in as textContent, never as HTML.
// @ts-check

/**
 * @typedef {{ class?: string, text?: string, [attribute: string]: string | undefined }} ElementProps
 *   class and text are set as such; anything else (data-*, an option's value) as an attribute
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {ElementProps} [props]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/**
 * The page's elements, by id; a missing one is a broken page, said at once.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T, prototype: T }} [kind] the element's class, checked
 * @returns {T}
 */
export function byId(id, kind) {
  const node = document.getElementById(id);
  if (!(node instanceof (kind ?? HTMLElement))) throw new Error(`the page has no ${kind?.name ?? 'element'} #${id}`);
  return /** @type {T} */ (node);
}

/** @typedef {(x: number | null | undefined) => string} Format */
/** @type {{ int: Format, pct: Format, cpu: Format, mib: Format, usd: Format, time: (iso: string | null | undefined) => string }} */
export const fmt = {
  int: (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US')),
  pct: (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`),
  cpu: (x) => (x === null || x === undefined ? '–' : `${x.toFixed(2)}%`),
  mib: (x) => (x === null || x === undefined ? '–' : `${(x / 1048576).toFixed(1)} MiB`),
  usd: (x) => (x === null || x === undefined ? '–' : `$${x.toFixed(2)}`),
  time: (iso) => (iso ? new Date(iso).toLocaleTimeString() : '–'),
};

/** @param {string} label @param {number} value @param {string} id */
export function card(label, value, id) {
  return el('div', { class: 'card', 'data-card': id }, el('div', { class: 'value', text: String(value) }), el('div', { class: 'label', text: label }));
}
