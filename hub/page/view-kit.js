// What the experiment and catalog views share: date-times, message areas, a guarded action, a state badge, a block
// of text to copy or download, a line of a textarea to point at, an owned poll timer and a button that asks first.
// @ts-check
import { ApiError } from './api.js';
import { byId, el } from './dom.js';

/** A date and time as the browser's locale writes them; '–' for none. @param {string | null | undefined} iso */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

/** An error's message, for people. @param {unknown} error */
export const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/** Shows `text` in the message area `id`, or hides it for null. @param {string} id @param {string | null} text */
export function say(id, text) {
  const area = byId(id);
  area.textContent = text ?? '';
  area.hidden = text === null;
}

/**
 * Does `work`; its failure goes to `fail` (by default the message area `area`), except a 401, which has already
 * signed the page out. Resolves true when it succeeded.
 * @param {string} area the id of the message area it clears first
 * @param {() => Promise<unknown>} work
 * @param {(error: unknown) => void} [fail]
 */
export async function attempt(area, work, fail = (error) => say(area, messageOf(error))) {
  say(area, null);
  try {
    await work();
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) fail(error);
    return false;
  }
}

/** The tbody of the table `id`. @param {string} id */
export const tableRows = (id) => byId(id, HTMLTableElement).tBodies[0];

/** A state or verdict as a badge, styled by its value. @param {string} value */
export const badge = (value) => el('span', { class: `badge badge-${value.replace(/[^a-z-]/g, '')}`, text: value });

/**
 * A block of text with a Copy button and a Download link (a data: URL, so nothing is left to revoke).
 * @param {string} text @param {string} filename what the download is saved as @param {string} kind e.g. 'template', for tests and styles
 */
export function copyBlock(text, filename, kind) {
  const pre = el('pre', { class: 'copyable', text });
  const done = el('span', { class: 'hint', role: 'status' });
  const copy = el('button', { type: 'button', text: 'Copy' });
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(text).then(
      () => (done.textContent = 'copied'),
      () => {
        // No clipboard (an insecure origin, a refused permission): select the text for Ctrl+C instead.
        getSelection()?.selectAllChildren(pre);
        done.textContent = 'selected: press Ctrl+C';
      },
    );
  });
  const download = el('a', { class: 'button', href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`, download: filename, text: 'Download' });
  return el('div', { class: 'copy-block', 'data-block': kind }, el('div', { class: 'filters' }, copy, download, done), pre);
}

/** Puts the caret on line `line` (1-based) of a textarea, the line selected and scrolled to. @param {HTMLTextAreaElement} area @param {number} line */
export function selectLine(area, line) {
  const lines = area.value.split('\n');
  const index = Math.min(Math.max(line, 1), lines.length) - 1;
  const start = lines.slice(0, index).reduce((sum, l) => sum + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + lines[index].length);
  const height = area.scrollHeight / Math.max(lines.length, 1);
  area.scrollTop = Math.max(0, index * height - area.clientHeight / 2);
}

/**
 * Calls `tick` now, then `ms` after each call settles, until `stop()`: one timer, owned, never two calls at once.
 * Calling rules: `start()` (re)starts it; `stop()` when the view goes (also from inside `tick`); `tick` handles its errors.
 * @param {() => Promise<void>} tick @param {number} ms
 */
export function poller(tick, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** Bumped by each start and stop: a tick of an earlier run schedules nothing. */
  let run = 0;
  /** @param {number} mine */
  const loop = async (mine) => {
    await tick().catch(() => undefined);
    if (mine === run) timer = setTimeout(() => void loop(mine), ms);
  };
  return {
    start() {
      this.stop();
      void loop(run);
    },
    stop() {
      run += 1;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * A button that asks first, without a dialog: its first click turns it into `confirmText` beside `cancel` for `ms`
 * (one owned timer), and only a second click within that does `action`; Cancel or the time running out turns it back.
 * Calling rules: once per button, at load; `reset()` whenever the button goes (its view hidden, the button hidden).
 * @param {HTMLButtonElement} button @param {HTMLButtonElement} cancel @param {string} confirmText @param {number} ms
 * @param {() => void} action
 */
export function askFirst(button, cancel, confirmText, ms, action) {
  const label = button.textContent ?? '';
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const reset = () => {
    clearTimeout(timer);
    timer = undefined;
    button.textContent = label;
    delete button.dataset.asking;
    cancel.hidden = true;
  };
  button.addEventListener('click', () => {
    if (timer !== undefined) {
      reset();
      action();
      return;
    }
    button.textContent = confirmText;
    button.dataset.asking = 'true';
    cancel.hidden = false;
    timer = setTimeout(reset, ms);
  });
  cancel.addEventListener('click', () => {
    reset();
    button.focus();
  });
  return { reset };
}
