// The create form's fields mode: one input per field of the definition (each names its field in data-path), read
// into a definition object with the empty ones left out (the hub's defaults apply), filled from a definition, and a
// refusal's message put beside the input its field path names, marked invalid and focused.
// @ts-check
import { api } from './api.js';
import { byId, el } from './dom.js';
import { selectLine } from './view-kit.js';

/**
 * @typedef {import('../http/experiment-types.js').PipelineInfo} PipelineInfo
 * @typedef {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} FieldInput
 *   data-kind: 'text' (as written), 'number' (a number when it reads as one, else the text: '10%'), 'list' (comma-
 *   separated), 'lines' (one item a line)
 */

/** The pipelines each side starts with, as in the text mode's example. */
const DEFAULT_PIPELINES = { 'xf-baseline': 'baseline', 'xf-candidate': 'optimized-b' };
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
/** Commas that separate items: not one inside a pattern's {m,n}. */
const LIST_COMMA = /,(?![^{]*\})/;

/** The fields' inputs, in the page's order. @returns {FieldInput[]} */
const inputs = () => [...byId('experiment-fields').querySelectorAll('[data-path]')].filter(
  /** @returns {node is FieldInput} */ (node) => node instanceof HTMLInputElement || node instanceof HTMLSelectElement || node instanceof HTMLTextAreaElement,
);
/** @param {FieldInput} input */
const pathOf = (input) => input.dataset.path ?? '';
/** `path` is `under` or lies beneath it. @param {string} path @param {string} under */
const within = (path, under) => path === under || path.startsWith(`${under}.`);

/** The items of a list or lines input, empty ones dropped. @param {FieldInput} input */
const itemsOf = (input) => input.value.split(input.dataset.kind === 'list' ? LIST_COMMA : '\n').map((s) => s.trim()).filter((s) => s !== '');

/** An input's value for the definition; undefined when it is empty. @param {FieldInput} input @returns {unknown} */
function read(input) {
  if (input.dataset.kind === 'list' || input.dataset.kind === 'lines') {
    const items = itemsOf(input);
    return items.length > 0 ? items : undefined;
  }
  const text = input.value.trim();
  if (text === '') return undefined;
  return input.dataset.kind === 'number' && NUMBER.test(text) ? Number(text) : text;
}

/** The definition the fields describe: only what was filled in. @returns {Record<string, unknown>} */
export function fieldsDefinition() {
  /** @type {Record<string, unknown>} */
  const definition = {};
  for (const input of inputs()) {
    const value = read(input);
    if (value === undefined) continue;
    const parts = pathOf(input).split('.');
    let at = definition;
    for (const part of parts.slice(0, -1)) at = /** @type {Record<string, unknown>} */ ((at[part] ??= {}));
    at[parts[parts.length - 1]] = value;
  }
  return definition;
}

/** A label matcher written as a line: 'env=prod', 'team in (a, b)'. @param {unknown} m */
function matcherText(m) {
  if (typeof m !== 'object' || m === null) return String(m);
  const { name, op, values } = /** @type {{ name?: unknown, op?: unknown, values?: unknown }} */ (m);
  if (!Array.isArray(values)) return JSON.stringify(m);
  return op === '=' || op === '!=' ? `${name}${op}${values[0]}` : `${name} ${op} (${values.join(', ')})`;
}

/**
 * Shows `value` in `input`; a select gains an option for a value it lacks (the hub then says what is wrong with it),
 * and chooses nothing for none.
 * @param {FieldInput} input @param {unknown} value
 */
function write(input, value) {
  let text = '';
  if (Array.isArray(value)) text = value.map(matcherText).join(input.dataset.kind === 'lines' ? '\n' : ', ');
  else if (typeof value === 'object' && value !== null) text = JSON.stringify(value);
  else if (value !== undefined && value !== null) text = String(value);
  if (input instanceof HTMLSelectElement && text !== '' && ![...input.options].some((o) => o.value === text)) {
    input.append(el('option', { value: text, text: `${text} (not in the list)` }));
  }
  input.value = text;
}

/** Every leaf of a definition as a dotted path (a list is one leaf). @param {unknown} value @param {string} at @returns {string[]} */
const leaves = (value, at = '') =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([key, v]) => leaves(v, at ? `${at}.${key}` : key))
    : [at];

/**
 * Fills every field from `definition` (a field it does not give is emptied); returns the fields it gives that have no
 * input here, which are not carried.
 * @param {Record<string, unknown>} definition @returns {string[]}
 */
export function fillFields(definition) {
  const all = inputs();
  for (const input of all) {
    /** @type {unknown} */
    let value = definition;
    for (const part of pathOf(input).split('.')) value = typeof value === 'object' && value !== null ? /** @type {Record<string, unknown>} */ (value)[part] : undefined;
    write(input, value);
  }
  return leaves(definition).filter((path) => !all.some((input) => within(path, pathOf(input))));
}

/** Takes every refusal's message and mark off the fields. */
export function clearFieldErrors() {
  for (const box of byId('experiment-fields').querySelectorAll('.field-error')) box.remove();
  for (const input of inputs()) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
}

/** The hub's message as it stands beside a field. @param {string} id @param {string} field @param {string} message */
const errorBox = (id, field, message) => el('span', { class: 'error field-error', id, role: 'alert', 'data-field': field, text: message });

/**
 * Puts a refusal beside the input its field names ('target.labels.1': the labels, that line selected), marked invalid
 * and focused, or beside the group of fields it is about ('target'). False when it names no field here.
 * @param {string | null} field the field's dotted path (aboutWhat) @param {string} message the hub's
 */
export function showFieldError(field, message) {
  clearFieldErrors();
  if (field === null) return false;
  const input = inputs().find((i) => within(field, pathOf(i)));
  if (input) {
    const id = `${input.id}-error`;
    (input.closest('label') ?? input).after(errorBox(id, field, message));
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    const item = field.slice(pathOf(input).length + 1);
    if (input instanceof HTMLTextAreaElement && /^\d+$/.test(item)) selectLine(input, lineOfItem(input, Number(item)));
    else input.focus();
    return true;
  }
  const group = [...byId('experiment-fields').querySelectorAll('fieldset[data-group]')].find((f) => within(field, f.getAttribute('data-group') ?? ''));
  if (!group) return false;
  group.querySelector('legend')?.after(errorBox(`xf-${group.getAttribute('data-group')}-error`, field, message));
  const first = group.querySelector('[data-path]');
  if (first instanceof HTMLElement) first.focus();
  return true;
}

/** The line (1-based) of a lines input's `index`th item, blank lines skipped as the definition skips them. @param {HTMLTextAreaElement} area @param {number} index */
function lineOfItem(area, index) {
  let seen = -1;
  const line = area.value.split('\n').findIndex((l) => l.trim() !== '' && (seen += 1) === index);
  return line + 1 || 1;
}

/** One option per template name (its newest version), then one per uploaded version. @param {PipelineInfo[]} pipelines */
function pipelineOptions(pipelines) {
  const names = [...new Map(pipelines.map((p) => [p.name, p])).values()].map((p) =>
    el('option', { value: p.name, text: `${p.name}${p.builtin ? ' (built-in)' : ' (newest)'}` }),
  );
  const versions = pipelines.filter((p) => !p.builtin).map((p) => el('option', { value: `${p.name}@sha256:${p.sha256}`, text: `${p.name} @ ${p.sha256.slice(0, 12)}` }));
  return [...names, ...versions];
}

/** Each side's parameters: the end of its input's id, its field, its label, the hub's default, the keyboard for it. */
const SIDE_PARAMETERS = [
  ['cpu', 'cpuThreshold', 'CPU threshold (of one core)', '0.05', 'decimal'],
  ['memory', 'memoryThresholdBytes', 'Memory threshold (bytes)', '268435456', 'numeric'],
];

/** Puts each side's inputs (its pipeline, its parameters) in its fieldset, the same for both. Calling rules: once, at load. */
export function initFields() {
  for (const fieldset of byId('experiment-fields').querySelectorAll('fieldset[data-side]')) {
    const side = fieldset.getAttribute('data-side');
    fieldset.append(
      el('label', {}, 'Pipeline ', el('select', { id: `xf-${side}`, 'data-path': `${side}.pipeline`, 'data-kind': 'text' })),
      ...SIDE_PARAMETERS.map(([id, field, label, placeholder, inputmode]) =>
        el('label', {}, `${label} `, el('input', { id: `xf-${side}-${id}`, 'data-path': `${side}.parameters.${field}`, 'data-kind': 'number', inputmode, placeholder, autocomplete: 'off' })),
      ),
    );
  }
}

/** Fills both pipeline selects from the hub's catalog, each keeping its choice (at first: baseline and optimized-b). */
export async function loadPipelines() {
  const { pipelines } = await api.pipelines();
  for (const [id, first] of Object.entries(DEFAULT_PIPELINES)) {
    const select = byId(id, HTMLSelectElement);
    const chosen = select.value || first;
    select.replaceChildren(...pipelineOptions(pipelines));
    write(select, chosen);
  }
}

/** Empties every field, the pipelines back to their first choice at the next load. */
export function resetFields() {
  clearFieldErrors();
  for (const input of inputs()) input.value = '';
}
