// The form that creates an experiment, as a draft or started at once, from a definition written as text (YAML or
// JSON) or in fields (experiment-fields.js), switching between them with what was entered. A refused definition's
// error is shown naming the field it is about: under the text (its line selected) or beside the field's input; what
// was entered is kept; a created one opens its own view. Only for roles that may create experiments.
// @ts-check
import { api } from './api.js';
import { byId, el } from './dom.js';
import { clearFieldErrors, fieldsDefinition, fillFields, initFields, loadPipelines, resetFields, showFieldError } from './experiment-fields.js';
import { href } from './nav.js';
import { attempt, messageOf, say, selectLine } from './view-kit.js';

/** A small definition that runs as it is on a fleet of VMs: the built-in pipelines, one canary host first. */
export const EXAMPLE = `# An experiment in YAML (or JSON); docs/experiments.md describes every field.
name: try-optimized-b
description: optimized-b against the baseline
baseline:
  pipeline: baseline
candidate:
  pipeline: optimized-b
target:                 # leave it out for every host
  kind: vm
rollout:
  canary: 1
  hold: 5m
duration: 1h
criteria:
  reduction: 50%
  retention: 100%
`;

/** The definition's top-level fields: an error starting with one of them is about that field. */
const FIELDS = ['name', 'description', 'baseline', 'candidate', 'parameters', 'critical', 'target', 'rollout', 'duration', 'criteria', 'guardrails'];

/**
 * What a refusal is about, from the hub's message ("definition: rollout.canary must be …, got 'ten'", "definition:
 * unknown field 'rollout.x'", "definition: baseline.pipeline: no template …", "definition: invalid YAML at line 3, column 5: …").
 * @param {string} message @returns {{ field: string | null, line: number | null }}
 */
export function aboutWhat(message) {
  const rest = message.replace(/^definition: /, '');
  const yaml = /^invalid YAML at line (\d+)/.exec(rest);
  if (yaml) return { field: null, line: Number(yaml[1]) };
  const named = /^unknown field '([^']+)'/.exec(rest) ?? /^([A-Za-z]+(?:\.[\w-]+)*):? /.exec(rest);
  const field = named && FIELDS.includes(named[1].split('.')[0]) ? named[1] : null;
  return { field, line: null };
}

/**
 * The line (1-based) where a dotted field path is written in YAML or JSON text: each name found indented under the one
 * before, a number as that item of a block list (or the line of a flow list); null when it is not written there.
 * @param {string} text @param {string} field
 */
export function lineOf(text, field) {
  const lines = text.split('\n');
  let at = -1;
  let indent = -1;
  for (const part of field.split('.')) {
    if (/^\d+$/.test(part)) {
      if (lines[at]?.includes('[')) continue;
      let items = -1;
      const found = lines.findIndex((l, i) => i > at && /^\s*- /.test(l) && (items += 1) === Number(part));
      if (found < 0) return at < 0 ? null : at + 1;
      at = found;
      continue;
    }
    const key = new RegExp(`^(\\s*)(?:- )?["']?${part.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}["']?\\s*:`);
    const found = lines.findIndex((l, i) => {
      const m = i > at ? key.exec(l) : null;
      return m !== null && m[1].length > indent;
    });
    if (found < 0) return at < 0 ? null : at + 1;
    at = found;
    indent = /** @type {RegExpExecArray} */ (key.exec(lines[found]))[1].length;
  }
  return at < 0 ? null : at + 1;
}

/** The refusal under the text: the field it names, its line, the hub's message; null clears it. @param {string | null} message */
function showError(message) {
  const area = byId('experiment-definition', HTMLTextAreaElement);
  const box = byId('experiment-error');
  area.setAttribute('aria-invalid', String(message !== null));
  if (message === null) {
    box.hidden = true;
    box.replaceChildren();
    delete box.dataset.field;
    return;
  }
  const { field, line: named } = aboutWhat(message);
  const line = named ?? (field === null ? null : lineOf(area.value, field));
  box.dataset.field = field ?? '';
  box.replaceChildren(
    ...(field === null ? [] : [el('code', { class: 'field', 'data-field': field, text: field }), ' ']),
    ...(line === null ? [] : [el('span', { class: 'line', 'data-line': String(line), text: `line ${line}` }), ': ']),
    el('span', { class: 'text', text: message }),
  );
  box.hidden = false;
  if (line !== null) selectLine(area, line);
}

/** Above the form: what is not about one field, and what a switch of mode could not carry. */
const MESSAGE = 'experiment-form-message';
const NOTE = 'experiment-mode-note';

/**
 * `mode`: how the definition is written now; `textUnread`: the fields could not read the text (it is YAML) and were
 * not edited since, so going back to the text keeps it as written.
 * @type {{ mode: 'text' | 'fields', textUnread: boolean }}
 */
const state = { mode: 'text', textUnread: false };

/** Every refusal the form shows taken away. */
function clearErrors() {
  showError(null);
  clearFieldErrors();
  say(MESSAGE, null);
}

/** The text as a definition object when it is JSON (all the fields can read here), else null. @param {string} text */
function jsonObject(text) {
  try {
    const value = /** @type {unknown} */ (JSON.parse(text));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? /** @type {Record<string, unknown>} */ (value) : null;
  } catch {
    return null;
  }
}

/** Switches how the definition is written, carrying what was entered across. @param {'text' | 'fields'} mode */
function switchMode(mode) {
  if (mode === state.mode) return;
  clearErrors();
  say(NOTE, null);
  const area = byId('experiment-definition', HTMLTextAreaElement);
  if (mode === 'fields') {
    const definition = jsonObject(area.value);
    state.textUnread = definition === null;
    if (definition !== null) {
      const left = fillFields(definition);
      if (left.length > 0) say(NOTE, `Not carried into the fields, which have no input for them (nor do they send them): ${left.join(', ')}.`);
    } else if (area.value !== EXAMPLE) {
      say(NOTE, 'The fields read JSON only, and this text is not JSON (YAML, say): they are as you left them, and the text is kept as written for when you go back to it.');
    }
  } else if (!state.textUnread) {
    area.value = `${JSON.stringify(fieldsDefinition(), null, 2)}\n`;
  }
  state.mode = mode;
  byId('experiment-text').hidden = mode !== 'text';
  byId('experiment-fields').hidden = mode !== 'fields';
  byId(mode === 'text' ? 'experiment-mode-text' : 'experiment-mode-fields', HTMLInputElement).checked = true;
}

/** @param {boolean} start run it at once, else keep it a draft */
function submit(start) {
  const fields = state.mode === 'fields';
  const definition = fields ? fieldsDefinition() : byId('experiment-definition', HTMLTextAreaElement).value;
  const buttons = ['experiment-create', 'experiment-create-start'].map((b) => byId(b, HTMLButtonElement));
  for (const b of buttons) b.disabled = true;
  clearErrors();
  void attempt(MESSAGE, async () => {
    const { experiment } = await api.createExperiment(definition, start);
    location.hash = href.experiment(experiment.id);
  }, (error) => {
    const message = messageOf(error);
    if (!fields) showError(message);
    else if (!showFieldError(aboutWhat(message).field, message)) say(MESSAGE, message);
  }).finally(() => {
    for (const b of buttons) b.disabled = false;
  });
}

/** Wires the form. Calling rules: once, at load. */
export function initExperimentForm() {
  initFields();
  byId('experiment-definition', HTMLTextAreaElement).value = EXAMPLE;
  byId('experiment-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    submit(/** @type {SubmitEvent} */ (event).submitter?.id === 'experiment-create-start');
  });
  for (const mode of /** @type {const} */ (['text', 'fields'])) {
    byId(`experiment-mode-${mode}`, HTMLInputElement).addEventListener('change', () => switchMode(mode));
  }
  byId('experiment-fields').addEventListener('input', () => (state.textUnread = false));
}

export const experimentFormView = {
  /** @param {string | null} _param @param {boolean} canWrite the role may create experiments */
  show(_param, canWrite) {
    byId('experiment-form').hidden = !canWrite;
    byId('experiment-form-denied').hidden = canWrite;
    if (canWrite) void attempt(MESSAGE, loadPipelines, (error) => say(MESSAGE, `Cannot list the pipelines: ${messageOf(error)}`));
  },
  /** Leaves what was entered as it is (a definition half written), but not after signing out: `reset`. @param {boolean} [reset] */
  hide(reset = false) {
    clearErrors();
    say(NOTE, null);
    if (!reset) return;
    switchMode('text');
    byId('experiment-definition', HTMLTextAreaElement).value = EXAMPLE;
    resetFields();
    state.textUnread = false;
  },
};
