// slotcron dashboard, the entry module (index.html loads it with <script type="module">):
// the hash router, view refreshes and live updates over SSE. Plain ES modules, no
// framework, no build step, served from the binary (docs/adr/0018-dashboard.md). Hash
// routes: #/ overview, #/jobs, #/jobs/<name>, #/alerts, #/health. Data from /api/v1 (docs:
// the API contract).
//
// Modules: dom.js (element helpers), format.js (figures for people), api.js (API client,
// token), events.js (the SSE stream read with fetch), actions.js (toasts, action buttons),
// table.js (sortable table), chart.js (SVG chart), views/*.js (one per page).
// src/http/assets.rs serves each from its table.
//
// Safety rule for every module: each string that came from the server (job names,
// commands, messages, log output) reaches the page through textContent, a text node or an
// attribute value, never through innerHTML or an HTML string. The page's CSP forbids inline
// script and style; looks are classes from app.css, and only bar widths go through
// element.style.

import { $, el, fill } from './dom.js';
import { API, authHeaders, onTokenSaved } from './api.js';
import { openEventStream } from './events.js';
import { toast, onActionDone } from './actions.js';
import { overviewView } from './views/overview.js';
import { jobsView } from './views/jobs.js';
import { jobView } from './views/job.js';
import { alertsView } from './views/alerts.js';
import { healthView } from './views/health.js';

const POLL_WHEN_DOWN_MS = 15000;

const VIEWS = { overview: overviewView, jobs: jobsView, job: jobView, alerts: alertsView, health: healthView };
let current = null;
let generation = 0;
let readyMarked = false;

function parseRoute(hash) {
  const path = (hash || '#/').replace(/^#\/?/, '');
  const [head, ...rest] = path.split('/');
  if (head === '') return { name: 'overview' };
  if (head === 'jobs' && rest.length && rest.join('/') !== '') return { name: 'job', arg: decodeURIComponent(rest.join('/')) };
  if (VIEWS[head]) return { name: head };
  return { name: 'missing', arg: path };
}

async function route() {
  const { name, arg } = parseRoute(location.hash);
  const mine = ++generation;
  const main = $('#view');
  delete main.dataset.ready;
  for (const link of document.querySelectorAll('nav a[data-view]')) {
    if (link.dataset.view === (name === 'job' ? 'jobs' : name)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!VIEWS[name]) {
    current = null;
    fill(main, el('h1', { text: 'Not found' }), el('p', {}, 'No view at ', el('code', { text: `#/${arg}` }), '. ', el('a', { href: '#/', text: 'Overview' })));
    return;
  }
  const view = VIEWS[name](arg);
  current = { view, generation: mine };
  document.title = `${view.title} · slotcron`;
  fill(main, el('p', { class: 'loading', text: 'Loading…' }));
  await refreshView(current, true);
}

async function refreshView(entry, first) {
  let data;
  try {
    data = await entry.view.load();
  } catch (err) {
    if (entry.generation !== generation) return;
    if (first) fill($('#view'), el('h1', { text: entry.view.title }), el('p', { class: 'error-box', role: 'alert', text: err.status === 404 ? `Not found: ${err.message}` : err.message }));
    else toast(`Refresh failed: ${err.message}`, 'bad');
    return;
  }
  if (entry.generation !== generation) return; // the user moved on meanwhile
  entry.view.render($('#view'), data, first || !entry.rendered);
  entry.rendered = true;
  if (first) {
    $('#view').dataset.ready = parseRoute(location.hash).name;
    if (!readyMarked) { readyMarked = true; performance.mark('slotcron-ready'); }
  }
}

let refreshTimer = null;
/** Coalesces bursts of events into one reload of the current view, 200 ms later. */
function requestRefresh(event) {
  if (!current?.rendered) return;
  if (event && !current.view.interested(event.type, event.data)) return;
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    if (current) refreshView(current, false);
  }, 200);
}

let pollTimer = null;
/** Shows the stream's state in the header; while it is down, the view reloads every 15 s. */
function setLive(live, why) {
  const conn = $('#conn');
  conn.textContent = live ? 'live' : why === 'unauthorized' ? 'live updates need the token' : 'reconnecting…';
  conn.className = `conn ${live ? 'live' : 'down'}`;
  if (live && pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  if (!live && !pollTimer) pollTimer = setInterval(() => requestRefresh(null), POLL_WHEN_DOWN_MS);
}

const parse = (data) => { try { return JSON.parse(data); } catch { return null; } };
const RELOADING = new Set(['run_started', 'run_finished', 'run_pressure', 'alert_raised', 'alert_resolved']);
function onEvent({ type, data }) {
  if (RELOADING.has(type)) requestRefresh({ type, data: parse(data) });
  else if (type === 'lagged') requestRefresh(null);
  else if (type === 'slots') {
    const body = parse(data);
    if (body && current?.rendered && current.view.onSlots) current.view.onSlots(body);
  }
}

/** The live stream, read with fetch so it can carry the token (events.js). */
function connectEvents() {
  const stream = openEventStream(`${API}/events`, {
    headers: authHeaders,
    onOpen: () => { setLive(true); requestRefresh(null); },
    onDown: (why) => setLive(false, why),
    onEvent,
  });
  onTokenSaved(() => stream.retryNow());
}

onActionDone(requestRefresh);
window.addEventListener('hashchange', route);
route();
connectEvents();
