// The pipeline catalog: the built-in templates and the uploaded versions (sha256, who, in use by which experiments),
// one template's text to copy or download, and — for roles that may — upload (a refusal names the line, which is
// selected) and delete (refused while an experiment uses it: the hub's message is shown).
// @ts-check
import { api } from './api.js';
import { byId, el } from './dom.js';
import { href } from './nav.js';
import { attempt, copyBlock, messageOf, say, selectLine, tableRows, when } from './view-kit.js';

/**
 * @typedef {import('../http/experiment-types.js').PipelineInfo} PipelineInfo
 * @typedef {import('../http/experiment-types.js').PipelineResponse} PipelineResponse
 */

const MESSAGE = 'catalog-message';

/** `notice`: what the last upload did, shown with the version it opens. @type {{ shown: boolean, canWrite: boolean, selected: string | null, notice: string | null }} */
const state = { shown: false, canWrite: false, selected: null, notice: null };

/** Links to the experiments that use a version, or "not in use". @param {PipelineInfo} p */
function usedBy(p) {
  if (p.usedBy.length === 0) return el('span', { class: 'hint', text: 'not in use' });
  const links = el('span', { 'data-used-by': p.usedBy.join(' ') });
  for (const id of p.usedBy) links.append(el('a', { href: href.experiment(id), text: id }), ' ');
  return links;
}

/** @param {PipelineInfo} p */
function row(p) {
  const remove = el('button', { type: 'button', class: 'danger', text: 'Delete' });
  remove.hidden = !state.canWrite || p.builtin;
  remove.addEventListener('click', () => void attempt(MESSAGE, async () => {
    await api.deletePipeline(p.name, p.sha256);
    if (state.selected?.split('@')[0] === p.name) location.hash = href.catalog();
    await loadList();
  }));
  return el(
    'tr',
    { 'data-pipeline': p.name, 'data-sha256': p.sha256 },
    el('td', {}, el('a', { href: href.pipeline(p.name, p.builtin ? undefined : p.sha256), text: p.name })),
    el('td', { text: p.builtin ? 'built-in' : 'uploaded' }),
    el('td', {}, el('code', { class: 'sha', text: p.sha256 })),
    el('td', { text: p.description ?? '' }),
    el('td', { text: p.builtin ? '–' : `${when(p.uploadedAt)} by ${p.uploadedBy}` }),
    el('td', {}, usedBy(p)),
    el('td', {}, remove),
  );
}

async function loadList() {
  const { pipelines } = await api.pipelines();
  if (state.shown) tableRows('catalog-list').replaceChildren(...pipelines.map(row));
}

/** One version: who and when, what uses it, its text, the other versions under its name. @param {PipelineResponse} answer */
function renderPipeline(answer) {
  const p = answer.pipeline;
  byId('pipeline-title').textContent = `Template ${p.name}`;
  const versions = (answer.versions ?? []).filter((v) => v.sha256 !== p.sha256);
  byId('pipeline-body').replaceChildren(
    el(
      'dl',
      { class: 'facts' },
      el('dt', { text: 'sha256' }),
      el('dd', {}, el('code', { 'data-pipeline-sha256': p.sha256, text: p.sha256 })),
      el('dt', { text: 'kind' }),
      el('dd', { text: p.builtin ? 'built-in' : `uploaded ${when(p.uploadedAt)} by ${p.uploadedBy}` }),
      el('dt', { text: 'used by' }),
      el('dd', {}, usedBy(p)),
      ...(p.description ? [el('dt', { text: 'description' }), el('dd', { text: p.description })] : []),
    ),
    copyBlock(p.content, `${p.name}-${p.sha256.slice(0, 12)}.yaml`, 'template'),
    ...(versions.length === 0
      ? []
      : [el('p', { text: 'Other versions' }), el('ul', {}, ...versions.map((v) => el('li', {}, el('a', { href: href.pipeline(v.name, v.sha256), text: v.sha256 }), ` ${when(v.uploadedAt)}`)))]),
  );
  byId('pipeline-detail').hidden = false;
}

/** @param {string} selected NAME or NAME@SHA256 */
async function loadPipeline(selected) {
  const [name = '', sha256] = selected.split('@');
  const answer = await api.pipeline(name, sha256);
  if (state.shown && state.selected === selected) renderPipeline(answer);
}

/** The upload's refusal under the text ("the template is refused: NAME:LINE: …"), its first line selected. @param {string | null} message */
function uploadError(message) {
  say('pipeline-upload-error', message);
  const line = message === null ? null : /(?:^|[:;] )[a-z][a-z0-9-]*:(\d+): /.exec(message.replace(/^the template is refused: /, ''));
  if (line) selectLine(byId('pipeline-content', HTMLTextAreaElement), Number(line[1]));
}

/** Wires the upload form. Calling rules: once, at load. */
export function initCatalog() {
  byId('pipeline-upload', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    const name = byId('pipeline-name', HTMLInputElement).value.trim();
    const description = byId('pipeline-description', HTMLInputElement).value.trim();
    const content = byId('pipeline-content', HTMLTextAreaElement).value;
    const button = byId('pipeline-submit', HTMLButtonElement);
    button.disabled = true;
    void attempt('pipeline-upload-error', async () => {
      const { pipeline, created } = await api.uploadPipeline({ name, content, ...(description ? { description } : {}) });
      state.notice = `${created ? 'Uploaded' : 'Already in the catalog:'} ${pipeline.name} version ${pipeline.sha256}`;
      const target = href.pipeline(pipeline.name, pipeline.sha256);
      // A new address is shown by the route (with the notice); the same one is not routed again.
      if (location.hash !== target) location.hash = target;
      else catalogView.show(state.selected, state.canWrite);
    }, (error) => uploadError(messageOf(error))).finally(() => (button.disabled = false));
  });
}

export const catalogView = {
  /** @param {string | null} selected NAME or NAME@SHA256 to show, or null @param {boolean} canWrite the role may upload and delete */
  show(selected, canWrite) {
    state.shown = true;
    state.canWrite = canWrite;
    state.selected = selected;
    byId('pipeline-upload').hidden = !canWrite;
    byId('pipeline-detail').hidden = true;
    say('pipeline-upload-done', state.notice);
    state.notice = null;
    void attempt(MESSAGE, () => Promise.all([loadList(), selected === null ? null : loadPipeline(selected)]));
  },
  /** Leaves a half-written upload as it is, but not after signing out: `reset`. @param {boolean} [reset] */
  hide(reset = false) {
    state.shown = false;
    state.selected = null;
    tableRows('catalog-list').replaceChildren();
    byId('pipeline-body').replaceChildren();
    byId('pipeline-detail').hidden = true;
    for (const id of [MESSAGE, 'pipeline-upload-error', 'pipeline-upload-done']) say(id, null);
    if (reset) byId('pipeline-upload', HTMLFormElement).reset();
  },
};
