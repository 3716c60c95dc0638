// The page's views and the addresses that name them: #/ the fleet, #/experiments, #/experiments/new,
// #/experiments/ID, #/catalog and #/catalog/NAME[@SHA256]; which view shows and which link in the nav is current.
// @ts-check
import { byId } from './dom.js';

/** @typedef {'fleet' | 'experiments' | 'experiment-form' | 'experiment' | 'catalog'} ViewName */
/** @typedef {{ view: ViewName, param: string | null }} Route */

/** Each view's nav link: one experiment and the form sit under Experiments. @type {Record<ViewName, string>} */
const SECTION = { fleet: 'fleet', experiments: 'experiments', 'experiment-form': 'experiments', experiment: 'experiments', catalog: 'catalog' };

const q = encodeURIComponent;

/** The addresses of the views, for links. */
export const href = {
  experiments: () => '#/experiments',
  newExperiment: () => '#/experiments/new',
  /** @param {string} id */
  experiment: (id) => `#/experiments/${q(id)}`,
  catalog: () => '#/catalog',
  /** @param {string} name @param {string} [sha256] one version; the newest without it */
  pipeline: (name, sha256) => `#/catalog/${q(sha256 ? `${name}@${sha256}` : name)}`,
};

/** The route the address names; anything it does not know is the fleet. @returns {Route} */
export function currentRoute() {
  const [first = '', second, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  let param = null;
  try {
    param = second === undefined || second === '' || rest.length > 0 ? null : decodeURIComponent(second);
  } catch {
    return { view: 'fleet', param: null };
  }
  if (first === 'experiments') {
    if (param === null) return { view: 'experiments', param: null };
    return param === 'new' ? { view: 'experiment-form', param: null } : { view: 'experiment', param };
  }
  if (first === 'catalog') return { view: 'catalog', param };
  return { view: 'fleet', param: null };
}

/** Shows the <main data-view> of `view` (none for null: signed out) and marks its link in the nav current. @param {ViewName | null} view */
export function showView(view) {
  for (const main of document.querySelectorAll('main[data-view]')) {
    if (main instanceof HTMLElement) main.hidden = main.dataset.view !== view;
  }
  for (const link of document.querySelectorAll('#nav a[data-nav]')) {
    if (!(link instanceof HTMLElement)) continue;
    if (view !== null && link.dataset.nav === SECTION[view]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  byId('nav').hidden = view === null;
}
