// The JSON API client: `get`/`post`/`api` call /api/v1 and turn a failure into an
// `ApiError`; on a 401 they ask for the token in the page's <dialog> (one prompt shared by
// every waiting caller), keep it in this tab's sessionStorage only, and retry. The event
// stream (events.js) sends the same header and hears of a new token through onTokenSaved.

import { $ } from './dom.js';

/** The API's base, relative: the page also works behind a reverse proxy's sub-path. */
export const API = 'api/v1';
const TOKEN_KEY = 'slotcron.token';

/** A failed call: `status` 0 when the daemon could not be reached, `code` from the body. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The `Authorization` header of the token this tab knows, if any (for the event stream). */
export function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const tokenListeners = [];
/** Calls `fn()` each time a token is entered (the event stream then reconnects with it). */
export function onTokenSaved(fn) {
  tokenListeners.push(fn);
}

/** Calls the API; on a 401 asks for the token (once for all callers) and retries. */
export async function api(method, path, { text = false } = {}) {
  let rejected = false;
  for (;;) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = { Accept: text ? 'text/plain' : 'application/json', ...authHeaders() };
    let res;
    try {
      res = await fetch(`${API}${path}`, { method, headers, cache: 'no-store' });
    } catch (err) {
      throw new ApiError(0, 'network', `cannot reach the daemon (${err.message})`);
    }
    if (res.status === 401) {
      if (token) sessionStorage.removeItem(TOKEN_KEY);
      const entered = await askToken(rejected || Boolean(token));
      if (entered == null) throw new ApiError(401, 'unauthorized', 'no API token given');
      rejected = true;
      continue;
    }
    if (!res.ok) {
      let code = 'http';
      let message = `${res.status} ${res.statusText}`;
      try {
        const body = await res.json();
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
      } catch { /* not JSON: keep the status line */ }
      throw new ApiError(res.status, code, message);
    }
    if (text) {
      return { text: await res.text(), truncated: res.headers.get('X-Slotcron-Log-Truncated') === 'true' };
    }
    return res.json();
  }
}

/** `GET path` as JSON. */
export const get = (path) => api('GET', path);
/** `POST path`, answer as JSON. */
export const post = (path) => api('POST', path);

let tokenAsk = null;
/** Shows the token form; resolves to the token entered, or null if cancelled. */
function askToken(rejected) {
  if (tokenAsk) return tokenAsk;
  tokenAsk = new Promise((resolve) => {
    const dialog = $('#token-dialog');
    const form = $('#token-form');
    const input = $('#token-input');
    const error = $('#token-error');
    const cancel = $('#token-cancel');
    error.textContent = rejected ? 'The daemon did not accept that token; check `slotcron token`.' : '';
    error.hidden = !rejected;
    input.value = '';
    const finish = (value) => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      tokenAsk = null;
      resolve(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      finish(value);
      for (const fn of tokenListeners) fn();
    };
    const onCancel = (event) => { event.preventDefault(); finish(null); };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    input.focus();
  });
  return tokenAsk;
}
