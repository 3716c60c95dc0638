// Keeps the view a signed-out page was opened at (#/experiments/ID) across a sign-in that leaves the page (a one-time
// code link, single sign-on): the hash never reaches the hub, so the page keeps it in this tab's sessionStorage and
// puts it back when it loads signed in at the bare address the hub's redirect lands on.
// @ts-check

const KEY = 'phoenix.return-to';
/** As long as a sign-in may take: a one-time code and a single sign-on each last 10 minutes. */
const KEEP_MS = 10 * 60 * 1000;
/** A view's address as the page writes them: '#/' and a path, no spaces, nothing else. */
const ROUTE = /^#\/[^\s]{1,1000}$/;

/** sessionStorage, or null where the browser refuses it (storage disabled): then nothing is kept. */
function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Keeps the address's view for the sign-in to come; none (the fleet, '#/'), and what was kept goes. */
export function rememberRoute() {
  const hash = location.hash;
  try {
    if (ROUTE.test(hash)) storage()?.setItem(KEY, JSON.stringify({ hash, at: Date.now() }));
    else storage()?.removeItem(KEY);
  } catch {
    // A full or refused storage: the sign-in lands on the fleet, as without this.
  }
}

/** Forgets the kept view: a sign-in in the page itself keeps its address anyway. */
export function forgetRoute() {
  try {
    storage()?.removeItem(KEY);
  } catch {
    // nothing kept, nothing to forget
  }
}

/**
 * Signed in after a load: the kept view back on the address, if the address names none itself and it was kept less
 * than 10 minutes ago; taken once. Calling rules: before the page routes.
 */
export function restoreRoute() {
  let kept = null;
  try {
    kept = /** @type {unknown} */ (JSON.parse(storage()?.getItem(KEY) ?? 'null'));
  } catch {
    kept = null;
  }
  forgetRoute();
  if (typeof kept !== 'object' || kept === null || location.hash.length > 1) return;
  const { hash, at } = /** @type {{ hash?: unknown, at?: unknown }} */ (kept);
  const age = typeof at === 'number' ? Date.now() - at : NaN;
  if (typeof hash !== 'string' || !ROUTE.test(hash) || !(age >= 0 && age < KEEP_MS)) return;
  // The same document, only its fragment: replaceState cannot take the page anywhere else.
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
}
