// The form that creates an experiment from a definition in YAML or JSON, as a draft or started at once. A refused
// definition's error is shown under the text naming the field it is about (and its line, selected), the text kept;
// a created one opens its own view. Only for roles that may create experiments.
// @ts-check
import { api } from './api.js';
import { byId, el } from './dom.js';
import { href } from './nav.js';
import { attempt, messageOf, selectLine } from './view-kit.js';

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

/** @param {boolean} start run it at once, else keep it a draft */
function submit(start) {
  const area = byId('experiment-definition', HTMLTextAreaElement);
  const buttons = ['experiment-create', 'experiment-create-start'].map((b) => byId(b, HTMLButtonElement));
  for (const b of buttons) b.disabled = true;
  showError(null);
  void attempt('experiment-error', async () => {
    const { experiment } = await api.createExperiment(area.value, start);
    location.hash = href.experiment(experiment.id);
  }, (error) => showError(messageOf(error))).finally(() => {
    for (const b of buttons) b.disabled = false;
  });
}

/** Wires the form. Calling rules: once, at load. */
export function initExperimentForm() {
  byId('experiment-definition', HTMLTextAreaElement).value = EXAMPLE;
  byId('experiment-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    submit(/** @type {SubmitEvent} */ (event).submitter?.id === 'experiment-create-start');
  });
}

export const experimentFormView = {
  /** @param {string | null} _param @param {boolean} canWrite the role may create experiments */
  show(_param, canWrite) {
    byId('experiment-form').hidden = !canWrite;
    byId('experiment-form-denied').hidden = canWrite;
  },
  /** Leaves the text as it is (a definition half written), but not after signing out: `reset`. @param {boolean} [reset] */
  hide(reset = false) {
    showError(null);
    if (reset) byId('experiment-definition', HTMLTextAreaElement).value = EXAMPLE;
  },
};
