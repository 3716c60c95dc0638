// The page's sign-in: the sign-in view (an API token, single sign-on when the hub offers it, why the last sign-in
// failed), who is signed in and with which role, and the sign-out button.
// @ts-check
import { api } from './api.js';
import { byId } from './dom.js';

/** @typedef {import('../http/types.js').SessionResponse} SessionResponse */

/** What each reason means to a person: the hub's `/?signin=<reason>` redirects, and the ends of a session. @type {Record<string, string>} */
const REASONS = {
  code: 'That sign-in link is not valid: it was used already or is more than 10 minutes old. Sign in with a token, or ask for a new link.',
  slowed: 'Too many failed sign-ins from this address. Wait a little, then try again.',
  state_mismatch: 'That single sign-on does not match one this browser began (another tab, or an old link). Try again.',
  provider_error: 'The identity provider did not sign you in.',
  expired: 'The single sign-on took longer than 10 minutes. Try again.',
  exchange_failed: 'The hub could not complete the single sign-on with the identity provider. Try again; if it keeps failing, the hub\'s log says why.',
  no_role: 'You signed in at the identity provider, but none of your groups has a role on this hub. Ask an administrator for access.',
  ended: 'Your session has ended (signed out elsewhere, its token revoked, or expired). Sign in again.',
  signed_out: 'You are signed out.',
  unreachable: 'The hub cannot be reached. Reload the page to try again.',
};

/** @param {string | null} reason @param {string} [text] what to say instead of the reason's meaning */
function say(reason, text) {
  const message = byId('signin-message');
  message.textContent = text ?? (reason === null ? '' : (REASONS[reason] ?? `The sign-in failed (${reason.slice(0, 60)}).`));
  message.dataset.reason = reason ?? '';
  message.hidden = reason === null;
}

/** @type {Promise<void> | null} */
let offered = null;
/** Shows the single sign-on link when the hub has a provider configured (asked once). */
function offerSingleSignOn() {
  offered ??= api.methods().then(
    ({ oidc }) => {
      if (!oidc) return;
      const link = byId('sso-link', HTMLAnchorElement);
      const target = new URL(oidc.url, location.origin);
      if (target.origin !== location.origin) return; // the hub's own route, never elsewhere
      link.href = target.pathname;
      link.textContent = `Sign in with ${oidc.displayName}`;
      byId('sso').hidden = false;
    },
    () => {
      offered = null; // asked again at the next sign-in view
    },
  );
}

/**
 * Wires the sign-in form and the sign-out button. Calling rules: once, at load.
 * @param {{ signedIn: (session: SessionResponse) => void, signOut: () => Promise<void> }} hooks
 */
export function initSession(hooks) {
  const input = byId('signin-token', HTMLInputElement);
  const button = byId('signin-submit', HTMLButtonElement);
  // The form is never submitted (form-action 'none'): the token goes to the API, the answer sets the cookie.
  byId('signin-form', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    api.signIn(token).then(
      (session) => {
        input.value = '';
        hooks.signedIn(session);
      },
      (error) => say('refused', `Not signed in: ${error instanceof Error ? error.message : String(error)}`),
    ).finally(() => (button.disabled = false));
  });
  const signOut = byId('sign-out', HTMLButtonElement);
  signOut.addEventListener('click', () => {
    signOut.disabled = true;
    hooks.signOut().finally(() => (signOut.disabled = false));
  });
}

/** The sign-in view, saying why when there is a reason (a key of REASONS, or a hub's redirect reason). @param {string | null} reason */
export function showSignIn(reason) {
  byId('account').hidden = true;
  byId('whoami').textContent = '';
  say(reason);
  byId('signin').hidden = false;
  offerSingleSignOn();
  byId('signin-token').focus();
}

/** Who is signed in, in the header; the sign-in view goes. @param {SessionResponse} session */
export function showSignedIn(session) {
  byId('signin').hidden = true;
  say(null);
  byId('whoami').textContent = `${session.name} (${session.role})`;
  sessionMessage(null);
  byId('account').hidden = false;
}

/** A problem with the session shown beside who is signed in (a sign-out that failed), or null to clear it. @param {string | null} text */
export function sessionMessage(text) {
  const message = byId('account-message');
  message.textContent = text ?? '';
  message.hidden = text === null;
}

/** The reason a hub's sign-in redirect gave (`/?signin=<reason>`), taken off the address so a reload does not repeat it. */
export function takeRedirectReason() {
  const url = new URL(location.href);
  const reason = url.searchParams.get('signin');
  if (reason === null) return null;
  url.searchParams.delete('signin');
  history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  return reason;
}
