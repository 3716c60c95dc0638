// The admin's sections: API tokens (list, create with the secret shown once, revoke) and the audit log, newest first.
// Shown only to a session whose role allows `admin`; for anyone else they are hidden and never loaded.
// @ts-check
import { api, ApiError } from './api.js';
import { byId, el } from './dom.js';

/**
 * @typedef {import('../http/types.js').TokenInfo} TokenInfo
 * @typedef {import('../http/types.js').AuditEntryInfo} AuditEntryInfo
 * @typedef {import('../access/roles.js').Role} Role
 */

let shown = false;
/** The `before` of the audit log's next (older) page, or null when there is none. @type {number | null} */
let auditNext = null;

/** @param {string | null} iso */
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

/** @param {string | null} text an error to show above the lists, or null to clear it */
function problem(text) {
  const message = byId('admin-message');
  message.textContent = text ?? '';
  message.hidden = text === null;
}

/** @param {string} name @param {string} secret shown until Done, another token or sign-out; the hub keeps only its hash */
function showSecret(name, secret) {
  byId('token-secret-name').textContent = name;
  byId('token-secret-value').textContent = secret;
  byId('token-secret').hidden = secret === '';
}

/** @param {TokenInfo} token */
function tokenRow(token) {
  const revoke = el('button', { type: 'button', class: 'revoke', text: 'Revoke' });
  revoke.addEventListener('click', () => void act(() => api.revokeToken(token.name), reload));
  return el(
    'tr',
    { 'data-token': token.name },
    el('td', { text: token.name }),
    el('td', { text: token.role }),
    el('td', { text: when(token.createdAt) }),
    el('td', { text: token.createdBy }),
    el('td', { text: when(token.lastUsedAt) }),
    el('td', { text: token.expiresAt ? when(token.expiresAt) : 'never' }),
    el('td', {}, revoke),
  );
}

/** @param {AuditEntryInfo} entry */
function auditRow(entry) {
  const detail = Object.entries(entry.detail).map(([key, value]) => `${key}=${value}`).join(' ');
  return el(
    'tr',
    { class: entry.outcome === 'refused' ? 'refused' : '', 'data-action': entry.action, 'data-id': String(entry.id) },
    el('td', { text: when(entry.at) }),
    el('td', { text: entry.actor }),
    el('td', { text: entry.role ?? '–' }),
    el('td', { text: entry.remote ?? '–' }),
    el('td', { text: entry.action }),
    el('td', { text: entry.target ?? '' }),
    el('td', { text: entry.outcome }),
    el('td', { text: detail }),
  );
}

const rows = (/** @type {string} */ id) => byId(id, HTMLTableElement).tBodies[0];

async function loadTokens() {
  const { tokens } = await api.tokens();
  if (shown) rows('token-list').replaceChildren(...tokens.map(tokenRow));
}

/** @param {boolean} older the next page after those shown; else the newest page, replacing them */
async function loadAudit(older) {
  const page = await api.audit(older ? auditNext : null);
  if (!shown) return;
  const entries = page.entries.map(auditRow);
  if (older) rows('audit-list').append(...entries);
  else rows('audit-list').replaceChildren(...entries);
  auditNext = page.next;
  byId('audit-more').hidden = page.next === null;
}

/** The token list and the audit log's newest page, as they now are. */
const reload = () => Promise.all([loadTokens(), loadAudit(false)]);

/**
 * Does `work`, then `after` (e.g. reload); a failure is shown, but a 401 has already signed the page out.
 * @param {() => Promise<unknown>} work
 * @param {() => Promise<unknown>} [after]
 */
async function act(work, after) {
  try {
    problem(null);
    await work();
    await after?.();
  } catch (error) {
    if (shown && !(error instanceof ApiError && error.status === 401)) problem(error instanceof Error ? error.message : String(error));
  }
}

/** Wires the token form and the audit log's paging. Calling rules: once, at load. */
export function initAdmin() {
  byId('token-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    const name = byId('token-name', HTMLInputElement);
    // The select offers exactly the roles.
    const role = /** @type {Role} */ (byId('token-role', HTMLSelectElement).value);
    const expires = byId('token-expires', HTMLInputElement);
    void act(async () => {
      const made = await api.createToken({ name: name.value.trim(), role, ...(expires.value.trim() ? { expires: expires.value.trim() } : {}) });
      showSecret(made.token.name, made.secret);
      name.value = '';
      expires.value = '';
    }, reload);
  });
  byId('token-secret-done').addEventListener('click', () => showSecret('', ''));
  byId('audit-more').addEventListener('click', () => void act(() => loadAudit(true)));
}

/** Shows the admin sections and loads them, or hides them and forgets what they showed. @param {boolean} admin */
export function showAdmin(admin) {
  shown = admin;
  byId('tokens').hidden = !admin;
  byId('audit').hidden = !admin;
  problem(null);
  if (admin) {
    void act(reload);
    return;
  }
  showSecret('', '');
  rows('token-list').replaceChildren();
  rows('audit-list').replaceChildren();
  auditNext = null;
  byId('audit-more').hidden = true;
}
