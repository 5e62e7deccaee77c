// slotcron dashboard: one plain ES module, no framework, no build step, served from the
// binary (docs/adr/0018-dashboard.md). Hash routes: #/ overview, #/jobs, #/jobs/<name>,
// #/alerts, #/health. Data from /api/v1 (docs: the API contract), live updates over SSE.
//
// Safety rule for this file: every string that came from the server (job names, commands,
// messages, log output) reaches the page through textContent, a text node or an attribute
// value, never through innerHTML or an HTML string. The page's CSP forbids inline script
// and style; looks are classes from app.css, and only bar widths go through element.style.

const API = 'api/v1'; // relative: the page also works behind a reverse proxy's sub-path
const TOKEN_KEY = 'slotcron.token';
const RUNS_PAGE = 100;
const LOG_BYTES = 65536;
const POLL_WHEN_DOWN_MS = 15000;

// ---------------------------------------------------------------- DOM helpers

const SVG_NS = 'http://www.w3.org/2000/svg';
const $ = (selector) => document.querySelector(selector);

/** An element: `props` are attributes, plus `class`, `text` (textContent) and `on<event>`. */
function el(tag, props = {}, ...children) {
  return assemble(document.createElement(tag), props, children);
}

/** An SVG element, same rules as `el`. */
function svg(tag, props = {}, ...children) {
  return assemble(document.createElementNS(SVG_NS, tag), props, children);
}

function assemble(node, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    // Strings become text nodes: append() never parses HTML.
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** `root.replaceChildren` minus the null/false entries (which it would print as text). */
const fill = (root, ...children) => root.replaceChildren(...children.flat().filter((c) => c != null && c !== false));

/** A word from the server made safe for a class name (`oom_killed` stays `oom_killed`). */
const classWord = (word) => String(word ?? 'unknown').toLowerCase().replace(/[^a-z0-9_-]/g, '_');

const TONES = {
  ok: ['success', 'healthy', 'ok', 'stable', 'idle', 'resolved'],
  warn: ['warning', 'overdue', 'timeout', 'killed', 'skipped', 'unstable', 'queued',
    'acknowledged', 'tripped', 'disabled'],
  bad: ['failed', 'critical', 'failing', 'oom_killed', 'degraded', 'error', 'broken', 'lost', 'open'],
  info: ['running', 'info'],
};
function tone(word) {
  for (const [name, words] of Object.entries(TONES)) if (words.includes(word)) return `tone-${name}`;
  return '';
}

/** A status badge: `oom_killed` has its own loud style. */
function badge(word, label) {
  if (word == null) return el('span', { class: 'muted', text: '—' });
  const text = label ?? String(word).replace(/_/g, ' ');
  return el('span', { class: `badge status-${classWord(word)} ${tone(word)}`, text });
}

// ---------------------------------------------------------------- formatting

function fmtBytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(n);
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function fmtMs(ms) {
  if (ms == null) return '—';
  const n = Number(ms);
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60000) return `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} s`;
  const s = Math.round(n / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** "10m", "1h30m", "500ms" (slotcron's duration words) in ms; null if unreadable. */
function parseDuration(text) {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return null;
  const units = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
  let total = 0;
  let matched = '';
  for (const [part, num, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) {
    total += Number(num) * units[unit];
    matched += part;
  }
  return matched === text.trim() && matched ? total : null;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relFmt = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

function relative(date) {
  const s = (date.getTime() - Date.now()) / 1000;
  const abs = Math.abs(s);
  if (abs < 60) return relFmt.format(Math.round(s), 'second');
  if (abs < 3600) return relFmt.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return relFmt.format(Math.round(s / 3600), 'hour');
  return relFmt.format(Math.round(s / 86400), 'day');
}

/** A <time> in the browser's local time zone, with the relative time as its title. */
function timeEl(iso, { withRelative = false } = {}) {
  if (!iso) return el('span', { class: 'muted', text: '—' });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('span', { text: String(iso) });
  return el('time', { datetime: iso, title: `${iso} (${relative(date)})` },
    dateFmt.format(date), withRelative ? el('span', { class: 'sub', text: relative(date) }) : null);
}

function fmtPct(pct) {
  if (pct == null) return el('span', { class: 'muted', text: '—' });
  const n = Number(pct);
  const cls = n > 0.5 ? 'trend-up' : n < -0.5 ? 'trend-down' : '';
  return el('span', { class: cls, text: `${n > 0 ? '+' : ''}${n.toFixed(1)} %` });
}

const rankOf = (order, word) => { const i = order.indexOf(word); return i < 0 ? order.length : i; };
const HEALTH = ['critical', 'warning', 'healthy'];
const EXECUTION = ['failing', 'overdue', 'never_run', 'ok'];
const PERFORMANCE = ['degraded', 'unstable', 'stable', 'unknown'];
const PRIORITY = ['critical', 'high', 'medium', 'low'];
const SEVERITY = ['critical', 'error', 'warning', 'info'];

const jobHref = (name) => `#/jobs/${encodeURIComponent(name)}`;
const jobLink = (name) => el('a', { href: jobHref(name), text: name });

// ---------------------------------------------------------------- API and token

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; on a 401 asks for the token (once for all callers) and retries. */
async function api(method, path, { text = false } = {}) {
  let rejected = false;
  for (;;) {
    const headers = { Accept: text ? 'text/plain' : 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
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
const get = (path) => api('GET', path);
const post = (path) => api('POST', path);

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

// ---------------------------------------------------------------- toasts and actions

function toast(message, kind = 'ok') {
  const node = el('div', { class: `toast ${kind}`, text: message });
  $('#toasts').append(node);
  setTimeout(() => node.remove(), kind === 'bad' ? 9000 : 5000);
}

/** A button that POSTs `path`, shows the answer's message and refreshes the view. */
function actionButton(label, path, { ariaLabel, primary = false } = {}) {
  const button = el('button', { type: 'button', class: primary ? 'primary' : null, 'aria-label': ariaLabel, text: label });
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    button.disabled = true;
    try {
      const answer = await post(path);
      toast(answer.message ?? `${label}: done`);
      requestRefresh({ type: 'action' });
    } catch (err) {
      toast(`${label} failed: ${err.message}`, 'bad');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function jobActions(job) {
  const name = encodeURIComponent(job.name);
  const enabled = job.effective_enabled ?? job.enabled;
  return [
    actionButton('Run now', `/jobs/${name}/run`, { ariaLabel: `Run ${job.name} now` }),
    enabled
      ? actionButton('Disable', `/jobs/${name}/disable`, { ariaLabel: `Disable ${job.name}` })
      : actionButton('Enable', `/jobs/${name}/enable`, { ariaLabel: `Enable ${job.name}` }),
  ];
}

// ---------------------------------------------------------------- tables

/**
 * A table with click-to-sort headers. `columns`: {key, label, sort?(row), cell(row), num?}.
 * Returns {node, update(rows)}; sorting state survives updates.
 */
function sortableTable(columns, { caption, initial, onRowClick, rowClass, empty = 'Nothing here.' }) {
  let sort = { ...initial };
  let rows = [];
  // A row object (fresh JSON after each reload) is drawn once; sorting and filtering only
  // reorder the rows drawn before.
  const built = new WeakMap();
  const tbody = el('tbody');
  const headers = columns.map((column) => {
    const th = el('th', { scope: 'col', class: column.num ? 'num' : null });
    if (column.sort) {
      // The arrow is drawn by app.css on an aria-hidden span: aria-sort says the order.
      th.append(el('button', {
        type: 'button', class: 'sort',
        onclick: () => {
          sort = { key: column.key, dir: sort.key === column.key ? -sort.dir : 1 };
          draw();
        },
      }, column.label, el('span', { class: 'arrow', 'aria-hidden': 'true' })));
    } else {
      th.append(el('span', { class: column.hidden ? 'visually-hidden' : null, text: column.label }));
    }
    return th;
  });
  const table = el('table', {}, caption ? el('caption', { class: 'visually-hidden', text: caption }) : null,
    el('thead', {}, el('tr', {}, headers)), tbody);

  function draw() {
    columns.forEach((column, i) => {
      if (column.key === sort.key) headers[i].setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
      else headers[i].removeAttribute('aria-sort');
    });
    const column = columns.find((c) => c.key === sort.key);
    const sorted = column?.sort ? [...rows].sort((a, b) => sort.dir * compare(column.sort(a), column.sort(b))) : rows;
    const fragment = document.createDocumentFragment();
    for (const row of sorted) {
      let tr = built.get(row);
      if (!tr) {
        tr = el('tr', {}, columns.map((c) => el('td', { class: c.num ? 'num' : c.class }, c.cell(row))));
        if (onRowClick) {
          tr.addEventListener('click', (event) => {
            if (event.target.closest('button, a')) return;
            onRowClick(row, tr);
          });
        }
        built.set(row, tr);
      }
      tr.className = [onRowClick ? 'clickable' : '', rowClass?.(row) ?? ''].join(' ').trim();
      fragment.append(tr);
    }
    if (!sorted.length) fragment.append(el('tr', {}, el('td', { class: 'empty', colspan: columns.length, text: empty })));
    tbody.replaceChildren(fragment);
  }
  return { node: el('div', { class: 'table-wrap' }, table), update(next) { rows = next; draw(); } };
}

function compare(a, b) {
  if (a == null && b == null) return 0;
  if (a == null) return 1;
  if (b == null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

// ---------------------------------------------------------------- overview

function gauge(label, value, max, format) {
  const fill = el('div', { class: 'gauge-fill' });
  const share = max ? Math.min(1, Number(value ?? 0) / Number(max)) : 0;
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  if (share >= 1) fill.classList.add('full');
  else if (share >= 0.8) fill.classList.add('high');
  const shown = value == null ? 'not measured' : max ? `${format(value)} / ${format(max)}` : `${format(value)} (no limit)`;
  return el('div', { class: 'gauge' },
    el('div', { class: 'gauge-head' }, el('span', { text: label }), el('span', { class: 'gauge-value', text: shown })),
    el('div', {
      class: 'gauge-track', role: 'meter', 'aria-label': label,
      'aria-valuemin': 0, 'aria-valuemax': max ?? value ?? 0, 'aria-valuenow': value ?? 0, 'aria-valuetext': shown,
    }, fill));
}

function slotCard(slot) {
  const live = slot.live;
  const facts = [
    `queue ${slot.queued ?? 0}${slot.queue_limit != null ? ` / ${slot.queue_limit}` : ''}`,
    slot.memory_reserved_bytes != null ? `reserved ${fmtBytes(slot.memory_reserved_bytes)}` : null,
    live?.cpu_percent != null ? `CPU ${Number(live.cpu_percent).toFixed(1)} %` : null,
    slot.cpu_max_percent != null ? `CPU cap ${slot.cpu_max_percent} %` : null,
    live?.psi?.memory_some_avg10 != null ? `mem PSI ${live.psi.memory_some_avg10}` : null,
    live ? null : 'memory not measured (runs unconfined)',
  ];
  return el('section', { class: 'slot', 'data-slot': slot.name, 'aria-label': `slot ${slot.name}` },
    el('h3', { text: slot.name }),
    gauge('Seats', slot.running ?? 0, slot.max_concurrent, String),
    gauge('Memory', live?.memory_current_bytes ?? null, slot.memory_max_bytes, fmtBytes),
    el('div', { class: 'slot-facts' }, facts.filter(Boolean).map((f) => el('span', { text: f }))));
}

function globalLine(global) {
  if (!global) return null;
  const parts = [global.memory_max_bytes != null ? `Global memory cap ${fmtBytes(global.memory_max_bytes)}` : 'No global memory cap'];
  if (global.enforcement) parts.push(`enforcement: ${global.enforcement}`);
  if (global.paused) parts.push(`paused: ${typeof global.paused === 'string' ? global.paused : JSON.stringify(global.paused)}`);
  return el('p', { class: 'global', id: 'global-cap', text: parts.join(' · ') });
}

function countCard(cls, count, label, href) {
  return el('a', { class: `card ${cls}`, href, 'data-count': cls },
    el('span', { class: 'count', text: count }), el('span', { class: 'label', text: label }));
}

const overviewView = () => {
  let slotsBox;
  return {
    title: 'Overview',
    load: () => Promise.all([get('/jobs'), get('/alerts?state=open'), get('/slots')]),
    interested: (type) => type.startsWith('run_') || type.startsWith('alert_') || type === 'action',
    render(root, [jobs, alerts, slots]) {
      const by = (status) => jobs.jobs.filter((j) => j.health?.status === status).length;
      const running = jobs.jobs.reduce((sum, j) => sum + (j.running ?? 0), 0);
      slotsBox = el('div', { class: 'slots', id: 'slots' });
      fill(root,
        el('h1', { text: 'Overview' }),
        el('div', { class: 'cards', id: 'counts' },
          countCard('healthy', by('healthy'), 'healthy jobs', '#/health'),
          countCard('warning', by('warning'), 'jobs with warnings', '#/health'),
          countCard('critical', by('critical'), 'critical jobs', '#/health'),
          countCard(`alerts${alerts.alerts.length ? ' some' : ''}`, alerts.alerts.length, 'open alerts', '#/alerts'),
          countCard('running', running, 'runs in progress', '#/jobs'),
          countCard('total', jobs.jobs.length, 'jobs', '#/jobs')),
        el('h2', { text: 'Slots' }),
        slotsBox);
      this.onSlots(slots);
    },
    onSlots(body) {
      if (!slotsBox) return;
      slotsBox.replaceChildren(...body.slots.map(slotCard));
      slotsBox.nextElementSibling?.remove();
      slotsBox.after(globalLine(body.global) ?? '');
    },
  };
};

// ---------------------------------------------------------------- jobs table

let jobsFilter = '';

function jobMatches(job, words) {
  const hay = [job.name, job.category, job.slot, job.priority, job.state, job.schedule_text,
    job.health?.status, job.health?.execution, job.health?.performance, job.last_run?.status,
    ...(job.tags ?? [])].filter(Boolean).join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

const JOB_COLUMNS = [
  {
    key: 'name', label: 'Name', sort: (j) => j.name,
    cell: (j) => [jobLink(j.name), j.state && j.state !== 'idle' ? [' ', badge(j.state)] : null],
  },
  { key: 'category', label: 'Category', sort: (j) => j.category, cell: (j) => j.category ?? '—' },
  { key: 'priority', label: 'Priority', sort: (j) => rankOf(PRIORITY, j.priority), cell: (j) => j.priority },
  { key: 'slot', label: 'Slot', sort: (j) => j.slot, cell: (j) => j.slot },
  {
    key: 'schedule', label: 'Schedule / next run', sort: (j) => j.next_run,
    cell: (j) => [el('span', { class: 'mono', text: j.schedule_text ?? '—' }),
      j.next_run ? el('span', { class: 'sub' }, 'next ', timeEl(j.next_run)) : null],
  },
  { key: 'health', label: 'Health', sort: (j) => rankOf(HEALTH, j.health?.status), cell: (j) => badge(j.health?.status) },
  { key: 'execution', label: 'Execution', sort: (j) => rankOf(EXECUTION, j.health?.execution), cell: (j) => badge(j.health?.execution) },
  { key: 'performance', label: 'Performance', sort: (j) => rankOf(PERFORMANCE, j.health?.performance), cell: (j) => badge(j.health?.performance) },
  {
    key: 'last', label: 'Last run', sort: (j) => j.last_run?.started_at,
    cell: (j) => j.last_run
      ? [badge(j.last_run.status), el('span', { class: 'sub', text: fmtMs(j.last_run.duration_ms) })]
      : el('span', { class: 'muted', text: 'never' }),
  },
  { key: 'actions', label: 'Actions', hidden: true, class: 'actions', cell: jobActions },
];

const jobsView = () => {
  let table;
  let all = [];
  let counter;
  const draw = () => {
    const words = jobsFilter.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = all.filter((j) => jobMatches(j, words));
    counter.textContent = `${shown.length} of ${all.length} jobs`;
    table.update(shown);
  };
  return {
    title: 'Jobs',
    load: () => get('/jobs'),
    interested: (type) => type.startsWith('run_') || type === 'action',
    render(root, body, first) {
      all = body.jobs;
      if (first) {
        table = sortableTable(JOB_COLUMNS, { caption: 'Jobs', initial: { key: 'name', dir: 1 }, empty: 'No job matches.' });
        counter = el('span', { class: 'muted', id: 'job-count', 'aria-live': 'polite' });
        const filter = el('input', {
          type: 'search', id: 'job-filter', placeholder: 'name, category, slot, status, tag…', value: jobsFilter,
          oninput: (event) => { jobsFilter = event.target.value; draw(); },
        });
        filter.value = jobsFilter;
        fill(root, el('h1', { text: 'Jobs' }),
          el('div', { class: 'toolbar' }, el('label', { for: 'job-filter', text: 'Filter' }), filter, counter),
          table.node);
      }
      draw();
    },
  };
};

// ---------------------------------------------------------------- job page: chart

/**
 * One SVG panel: a point per run (oldest left), the baseline band (median ± MAD), the
 * median and p95 lines, and the limit (drawn at its height when in range, else named).
 */
function chart({ title, runs, value, format, baseline, limit, onPick }) {
  const W = 640; const H = 190; const L = 64; const R = 12; const T = 12; const B = 24;
  const points = runs.filter((r) => value(r) != null).reverse();
  const wrap = el('figure', { class: 'chart' }, el('h3', { text: title }));
  if (!points.length) return assemble(wrap, {}, [el('p', { class: 'muted', text: 'No finished runs yet.' })]);
  const values = points.map(value);
  const band = baseline ? [Math.max(0, baseline.median - (baseline.mad ?? 0)), baseline.median + (baseline.mad ?? 0)] : null;
  let top = Math.max(...values, band?.[1] ?? 0, baseline?.p95 ?? 0);
  const limitInRange = limit != null && limit <= top * 3;
  if (limitInRange) top = Math.max(top, limit);
  top = top > 0 ? top * 1.1 : 1;
  const x = (i) => (points.length === 1 ? L + (W - L - R) / 2 : L + (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}, ${points.length} runs` });
  for (const tick of [0, top / 2, top]) {
    g.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(tick), y2: y(tick) }),
      svg('text', { class: 'tick', x: L - 6, y: y(tick) + 4, 'text-anchor': 'end' }, format(tick)));
  }
  if (band) g.append(svg('rect', { class: 'band', x: L, width: W - L - R, y: y(band[1]), height: Math.max(1, y(band[0]) - y(band[1])) }, svg('title', {}, `baseline median ± MAD: ${format(band[0])} … ${format(band[1])}`)));
  if (baseline) g.append(svg('line', { class: 'median', x1: L, x2: W - R, y1: y(baseline.median), y2: y(baseline.median) }));
  if (baseline?.p95 != null) g.append(svg('line', { class: 'p95', x1: L, x2: W - R, y1: y(baseline.p95), y2: y(baseline.p95) }));
  if (limit != null) {
    if (limitInRange) g.append(svg('line', { class: 'limit', x1: L, x2: W - R, y1: y(limit), y2: y(limit) }));
    g.append(svg('text', { class: 'limit-label', x: W - R, y: limitInRange ? y(limit) - 4 : T + 8, 'text-anchor': 'end' },
      `limit ${format(limit)}${limitInRange ? '' : ' (above the scale)'}`));
  }
  g.append(svg('polyline', { class: 'series', points: values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
  points.forEach((run, i) => {
    const oom = run.status === 'oom_killed';
    const dot = svg('circle', { class: `pt ${tone(run.status)}${oom ? ' oom' : ''}`, cx: x(i), cy: y(values[i]), r: oom ? 6 : 3.5 },
      svg('title', {}, `run ${run.id} · ${run.status} · ${format(values[i])}`));
    if (onPick) dot.addEventListener('click', () => onPick(run));
    g.append(dot);
  });
  g.append(svg('text', { class: 'tick', x: L, y: H - 6 }, `run ${points[0].id}`),
    svg('text', { class: 'tick', x: W - R, y: H - 6, 'text-anchor': 'end' }, `run ${points[points.length - 1].id}`));
  return assemble(wrap, {}, [g, el('figcaption', { class: 'legend' },
    el('span', { class: 'key band', text: 'baseline median ± MAD' }),
    el('span', { class: 'key', text: '— median, - - p95' }),
    el('span', { class: 'key limit', text: 'limit' }),
    el('span', { class: 'key oom', text: 'OOM-killed' }))]);
}

// ---------------------------------------------------------------- job page

function fact(label, ...value) {
  return el('div', {}, el('dt', { text: label }), el('dd', {}, value));
}

function runLabel(run) {
  if (run.status === 'running') return 'running';
  if (run.exit_code != null) return `exit ${run.exit_code}`;
  if (run.signal != null) return `signal ${run.signal}`;
  return '';
}

const jobView = (name) => {
  let runs = [];
  let nextBefore = null;
  let selected = null;
  let runsTable;
  let charts;
  let logPanel;
  let moreButton;
  let job;

  async function showLog(run) {
    selected = run.id;
    runsTable.update(runs);
    const pre = el('pre', { id: 'log-text', tabindex: 0 });
    const note = el('p', { class: 'muted small' });
    logPanel.replaceChildren(el('h2', { text: `Log of run ${run.id}` }), note, pre);
    pre.textContent = 'Loading…';
    try {
      const log = await api('GET', `/runs/${run.id}/log?bytes=${LOG_BYTES}`, { text: true });
      pre.textContent = log.text || '(empty)'; // text, never HTML: log output is untrusted
      note.textContent = log.truncated ? `The last ${fmtBytes(LOG_BYTES)} of the log.` : 'The whole log.';
    } catch (err) {
      pre.textContent = '';
      note.textContent = err.status === 404 ? 'This run has no log (none was written, or it was pruned).' : `Cannot load the log: ${err.message}`;
    }
    logPanel.scrollIntoView({ block: 'nearest' });
  }

  function drawCharts() {
    const b = job.health?.baseline;
    const limitMemory = job.limits?.memory ?? runs.find((r) => r.memory_limit_bytes != null)?.memory_limit_bytes ?? null;
    charts.replaceChildren(
      chart({
        title: 'Duration per run', runs, value: (r) => r.duration_ms, format: fmtMs, onPick: showLog,
        baseline: b ? { median: b.duration_median_ms, mad: b.duration_mad_ms, p95: b.duration_p95_ms } : null,
        limit: parseDuration(job.limits?.timeout),
      }),
      chart({
        title: 'Peak memory per run', runs, value: (r) => r.memory_peak_bytes, format: fmtBytes, onPick: showLog,
        baseline: b?.memory_median_bytes != null ? { median: b.memory_median_bytes, mad: b.memory_mad_bytes } : null,
        limit: limitMemory,
      }));
  }

  const RUN_COLUMNS = [
    {
      key: 'id', label: 'Run', sort: (r) => r.id,
      cell: (r) => el('button', { type: 'button', class: 'link', 'aria-label': `Show the log of run ${r.id}`, text: `#${r.id}`, onclick: () => showLog(r) }),
    },
    { key: 'status', label: 'Status', sort: (r) => r.status, cell: (r) => [badge(r.status), el('span', { class: 'sub', text: runLabel(r) })] },
    { key: 'trigger', label: 'Trigger', sort: (r) => r.trigger, cell: (r) => [r.trigger ?? '—', r.attempt > 1 ? el('span', { class: 'sub', text: `attempt ${r.attempt}` }) : null] },
    { key: 'started', label: 'Started', sort: (r) => r.started_at, cell: (r) => timeEl(r.started_at) },
    { key: 'duration', label: 'Duration', num: true, sort: (r) => r.duration_ms, cell: (r) => fmtMs(r.duration_ms) },
    { key: 'memory', label: 'Peak memory', num: true, sort: (r) => r.memory_peak_bytes, cell: (r) => fmtBytes(r.memory_peak_bytes) },
    { key: 'wait', label: 'Queue wait', num: true, sort: (r) => r.wait_ms, cell: (r) => fmtMs(r.wait_ms) },
    { key: 'error', label: 'Error', cell: (r) => (r.error ? el('span', { class: 'error-text', text: r.error }) : '') },
  ];

  async function loadMore() {
    moreButton.disabled = true;
    try {
      const page = await get(`/jobs/${encodeURIComponent(name)}/runs?limit=${RUNS_PAGE}&before=${nextBefore}`);
      runs = runs.concat(page.runs);
      nextBefore = page.next_before;
      runsTable.update(runs);
      drawCharts();
    } catch (err) {
      toast(`Cannot load older runs: ${err.message}`, 'bad');
    } finally {
      moreButton.disabled = false;
      moreButton.hidden = nextBefore == null;
    }
  }

  return {
    title: name,
    load: () => Promise.all([get(`/jobs/${encodeURIComponent(name)}`), get(`/jobs/${encodeURIComponent(name)}/runs?limit=${RUNS_PAGE}`)]),
    interested: (type, data) => (type.startsWith('run_') && data?.job === name) || type === 'action',
    render(root, [jobBody, page], first) {
      job = jobBody;
      runs = page.runs;
      nextBefore = page.next_before;
      const h = job.health ?? {};
      const facts = el('dl', { class: 'facts' },
        fact('State', badge(job.state)),
        fact('Health', badge(h.status), ' ', badge(h.execution), ' ', badge(h.performance)),
        fact('Schedule', el('span', { class: 'mono', text: job.schedule_text ?? '—' }), job.timezone ? ` (${job.timezone})` : ''),
        fact('Next run', timeEl(job.next_run, { withRelative: true })),
        fact('Slot / priority', `${job.slot} / ${job.priority}`),
        fact('Category', job.category ?? '—'),
        fact('Limits', `memory ${fmtBytes(job.limits?.memory)}, cpu ${job.limits?.cpu ?? '—'}, timeout ${job.limits?.timeout ?? '—'}`),
        fact('Baseline', h.baseline
          ? `${fmtMs(h.baseline.duration_median_ms)} median, p95 ${fmtMs(h.baseline.duration_p95_ms)}, ${h.baseline.runs} runs`
          : (h.baseline_missing ?? 'none')),
        fact('Consecutive failures', String(job.consecutive_failures ?? 0)),
        job.last_error ? fact('Last error', el('span', { class: 'error-text', text: job.last_error })) : null,
        fact('Command', el('code', { text: Array.isArray(job.command) ? job.command.join(' ') : String(job.command ?? '') })));
      if (first) {
        charts = el('div', { class: 'charts', id: 'charts' });
        runsTable = sortableTable(RUN_COLUMNS, {
          caption: `Runs of ${name}`, initial: { key: 'id', dir: -1 }, empty: 'No runs yet.',
          onRowClick: (r) => showLog(r), rowClass: (r) => (r.id === selected ? 'selected' : null),
        });
        logPanel = el('section', { class: 'log-panel', id: 'log', 'aria-live': 'polite' });
        moreButton = el('button', { type: 'button', class: 'more', text: 'Older runs', onclick: loadMore });
        fill(root,
          el('h1', {}, el('span', { class: 'muted', text: 'Job ' }), el('span', { id: 'job-name', text: name })),
          job.description ? el('p', { text: job.description }) : null,
          el('div', { id: 'job-facts' }, facts),
          el('div', { class: 'head-actions', id: 'job-actions' }, jobActions(job)),
          el('h2', { text: 'Runs against the baseline' }), charts,
          el('h2', { text: 'Runs' }), runsTable.node, moreButton, logPanel);
      } else {
        $('#job-facts').replaceChildren(facts);
        $('#job-actions').replaceChildren(...jobActions(job));
      }
      moreButton.hidden = nextBefore == null;
      runsTable.update(runs);
      drawCharts();
    },
  };
};

// ---------------------------------------------------------------- alerts

const ALERT_COLUMNS = (withAck) => [
  { key: 'severity', label: 'Severity', sort: (a) => rankOf(SEVERITY, a.severity), cell: (a) => badge(a.severity) },
  { key: 'job', label: 'Job', sort: (a) => a.job, cell: (a) => (a.job ? jobLink(a.job) : '—') },
  { key: 'kind', label: 'Kind', sort: (a) => a.kind, cell: (a) => String(a.kind ?? '').replace(/_/g, ' ') },
  { key: 'message', label: 'Message', cell: (a) => a.message ?? '' },
  { key: 'count', label: 'Count', num: true, sort: (a) => a.count, cell: (a) => String(a.count ?? 1) },
  { key: 'first', label: 'First seen', sort: (a) => a.first_seen ?? a.opened_at, cell: (a) => timeEl(a.first_seen ?? a.opened_at) },
  { key: 'last', label: 'Last seen', sort: (a) => a.last_seen ?? a.last_at, cell: (a) => timeEl(a.last_seen ?? a.last_at) },
  { key: 'state', label: 'State', sort: (a) => a.state, cell: (a) => badge(a.state) },
  withAck
    ? { key: 'ack', label: 'Actions', hidden: true, class: 'actions', cell: (a) => (a.state === 'open' ? actionButton('Acknowledge', `/alerts/${encodeURIComponent(a.id)}/ack`, { ariaLabel: `Acknowledge alert ${a.id} (${a.kind} on ${a.job})` }) : '') }
    : null,
].filter(Boolean);

const alertsView = () => {
  let openTable;
  let recentTable;
  return {
    title: 'Alerts',
    load: () => Promise.all([get('/alerts?state=open'), get('/alerts?state=all')]),
    interested: (type) => type.startsWith('alert_') || type === 'run_finished' || type === 'action',
    render(root, [open, all], first) {
      if (first) {
        openTable = sortableTable(ALERT_COLUMNS(true), { caption: 'Open alerts', initial: { key: 'last', dir: -1 }, empty: 'No open alert.' });
        recentTable = sortableTable(ALERT_COLUMNS(false), { caption: 'Recent alerts', initial: { key: 'last', dir: -1 }, empty: 'No acknowledged or resolved alert yet.' });
        fill(root, el('h1', { text: 'Alerts' }),
          el('h2', { id: 'open-alerts', text: 'Open' }), assemble(openTable.node, { id: 'open-table' }, []),
          el('h2', { text: 'Recent (acknowledged and resolved)' }), assemble(recentTable.node, { id: 'recent-table' }, []));
      }
      openTable.update(open.alerts);
      recentTable.update(all.alerts.filter((a) => a.state !== 'open').slice(0, 100));
    },
  };
};

// ---------------------------------------------------------------- health

function countsBy(jobs, order, pick) {
  return el('div', { class: 'cards' }, order.map((word) =>
    el('div', { class: `card ${classWord(word)}` },
      el('span', { class: 'count', text: jobs.filter((j) => pick(j) === word).length }),
      el('span', { class: 'label', text: word.replace(/_/g, ' ') }))));
}

const trendSize = (j) => Math.max(j.trend?.duration_change_pct ?? -Infinity, j.trend?.memory_change_pct ?? -Infinity);

const healthView = () => {
  let worst;
  let trends;
  return {
    title: 'Health',
    load: () => get('/jobs'),
    interested: (type) => type.startsWith('run_') || type === 'action',
    render(root, body, first) {
      const jobs = body.jobs;
      if (first) {
        worst = sortableTable([
          { key: 'name', label: 'Job', sort: (j) => j.name, cell: (j) => jobLink(j.name) },
          { key: 'health', label: 'Health', sort: (j) => rankOf(HEALTH, j.health?.status), cell: (j) => badge(j.health?.status) },
          { key: 'execution', label: 'Execution', sort: (j) => rankOf(EXECUTION, j.health?.execution), cell: (j) => badge(j.health?.execution) },
          { key: 'failures', label: 'Consecutive failures', num: true, sort: (j) => -(j.consecutive_failures ?? 0), cell: (j) => String(j.consecutive_failures ?? 0) },
          { key: 'error', label: 'Last error', cell: (j) => (j.last_error ? el('span', { class: 'error-text', text: j.last_error }) : '') },
          { key: 'last', label: 'Last run', sort: (j) => j.last_run?.started_at, cell: (j) => (j.last_run ? [badge(j.last_run.status), ' ', timeEl(j.last_run.started_at)] : 'never') },
        ], { caption: 'Jobs by health, worst first', initial: { key: 'worst', dir: 1 } });
        trends = sortableTable([
          { key: 'name', label: 'Job', sort: (j) => j.name, cell: (j) => jobLink(j.name) },
          { key: 'performance', label: 'Performance', sort: (j) => rankOf(PERFORMANCE, j.health?.performance), cell: (j) => badge(j.health?.performance) },
          { key: 'duration', label: 'Duration vs baseline', num: true, sort: (j) => -(j.trend?.duration_change_pct ?? -Infinity), cell: (j) => fmtPct(j.trend?.duration_change_pct) },
          { key: 'memory', label: 'Memory vs baseline', num: true, sort: (j) => -(j.trend?.memory_change_pct ?? -Infinity), cell: (j) => fmtPct(j.trend?.memory_change_pct) },
          { key: 'median', label: 'Baseline median', num: true, sort: (j) => j.health?.baseline?.duration_median_ms, cell: (j) => fmtMs(j.health?.baseline?.duration_median_ms) },
          { key: 'avg24', label: '24 h average', num: true, sort: (j) => j.health?.rolling_24h?.duration_avg_ms, cell: (j) => fmtMs(j.health?.rolling_24h?.duration_avg_ms) },
          { key: 'mem24', label: '24 h peak memory', num: true, sort: (j) => j.health?.rolling_24h?.memory_peak_max_bytes, cell: (j) => fmtBytes(j.health?.rolling_24h?.memory_peak_max_bytes) },
        ], { caption: 'Performance trends, degraded first', initial: { key: 'degraded', dir: 1 } });
        fill(root, el('h1', { text: 'Health' }),
          el('h2', { text: 'By health' }), el('div', { id: 'health-counts' }),
          el('h2', { text: 'By execution' }), el('div', { id: 'execution-counts' }),
          el('h2', { text: 'Jobs, worst first' }), assemble(worst.node, { id: 'worst-table' }, []),
          el('h2', { text: 'Performance trends: last 24 h against the baseline, degraded first' }),
          assemble(trends.node, { id: 'trends-table' }, []));
      }
      $('#health-counts').replaceChildren(countsBy(jobs, HEALTH, (j) => j.health?.status));
      $('#execution-counts').replaceChildren(countsBy(jobs, EXECUTION, (j) => j.health?.execution));
      // The initial orders ("worst", "degraded") are no column: rows arrive pre-sorted.
      worst.update([...jobs].sort((a, b) => rankOf(HEALTH, a.health?.status) - rankOf(HEALTH, b.health?.status)
        || rankOf(EXECUTION, a.health?.execution) - rankOf(EXECUTION, b.health?.execution)
        || (b.consecutive_failures ?? 0) - (a.consecutive_failures ?? 0) || compare(a.name, b.name)));
      trends.update([...jobs].sort((a, b) => rankOf(PERFORMANCE, a.health?.performance) - rankOf(PERFORMANCE, b.health?.performance)
        || trendSize(b) - trendSize(a) || compare(a.name, b.name)));
    },
  };
};

// ---------------------------------------------------------------- router and live updates

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
function connectEvents() {
  const conn = $('#conn');
  if (typeof EventSource === 'undefined') return;
  const source = new EventSource(`${API}/events`);
  const setLive = (live) => {
    conn.textContent = live ? 'live' : 'reconnecting…';
    conn.className = `conn ${live ? 'live' : 'down'}`;
    if (live && pollTimer) { clearInterval(pollTimer); pollTimer = null; }
    if (!live && !pollTimer) pollTimer = setInterval(() => requestRefresh(null), POLL_WHEN_DOWN_MS);
  };
  source.addEventListener('open', () => { setLive(true); requestRefresh(null); });
  source.addEventListener('error', () => setLive(false));
  const parse = (event) => { try { return JSON.parse(event.data); } catch { return null; } };
  for (const type of ['run_started', 'run_finished', 'alert_raised', 'alert_resolved']) {
    source.addEventListener(type, (event) => requestRefresh({ type, data: parse(event) }));
  }
  source.addEventListener('slots', (event) => {
    const body = parse(event);
    if (body && current?.rendered && current.view.onSlots) current.view.onSlots(body);
  });
  source.addEventListener('lagged', () => requestRefresh(null));
}

window.addEventListener('hashchange', route);
route();
connectEvents();
