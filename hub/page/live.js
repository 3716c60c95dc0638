// The page's live feed (ws /api/v1/live), open only while signed in: it says when reports were stored. A dropped
// connection is reopened (backing off) while the session holds; a close with 4401 (the session was signed out,
// revoked or expired) ends it for good.
// @ts-check
import { byId } from './dom.js';

/** @typedef {import('../http/types.js').LiveMessage} LiveMessage */

/** The hub's close code for a feed whose session ended (LIVE_SIGNED_OUT in hub/live.ts). */
const SIGNED_OUT = 4401;

/**
 * Calling rules: `start()` once signed in, `stop()` when signing out; after `ended` is called the feed is stopped.
 * @param {{ reports: () => void, ended: () => void, stillSignedIn: () => Promise<boolean> }} hooks
 */
export function liveFeed(hooks) {
  const status = byId('live-status');
  /** The open (or opening) socket; null when stopped or waiting to reconnect. @type {WebSocket | null} */
  let socket = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retry;
  let running = false;

  /** @param {boolean} on */
  const show = (on) => {
    status.textContent = on ? 'live' : 'offline';
    status.className = on ? 'live on' : 'live off';
  };

  /** @param {number} attempt */
  const connect = (attempt) => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/live`);
    socket = ws;
    ws.addEventListener('open', () => {
      attempt = 0;
      show(true);
    });
    ws.addEventListener('message', (event) => {
      const message = /** @type {LiveMessage} */ (JSON.parse(event.data));
      if (socket === ws && message.type === 'reports') hooks.reports();
    });
    ws.addEventListener('close', (event) => {
      if (socket !== ws) return; // stopped on purpose
      socket = null;
      show(false);
      if (event.code === SIGNED_OUT) {
        running = false;
        hooks.ended();
        return;
      }
      // A refused upgrade (a session that ended while the page was away) looks like any drop: ask before reopening.
      retry = setTimeout(async () => {
        retry = undefined;
        const holds = await hooks.stillSignedIn().catch(() => true);
        if (!running) return;
        if (holds) connect(attempt + 1);
        else {
          running = false;
          hooks.ended();
        }
      }, Math.min(30_000, 1000 * 2 ** attempt));
    });
  };

  return {
    start() {
      this.stop();
      running = true;
      connect(0);
    },
    stop() {
      running = false;
      clearTimeout(retry);
      retry = undefined;
      const ws = socket;
      socket = null;
      ws?.close();
      show(false);
    },
  };
}
