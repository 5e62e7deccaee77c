// A job's page (#/jobs/<name>): its facts and buttons, duration and peak-memory charts
// against the baseline, its runs (paged, "Older runs"; disk io where measured; a run the
// pressure response holds frozen or throttled marked so, with how long) and a run's log
// tail as text.

import { $, el, fill, badge, classWord } from '../dom.js';
import { fmtBytes, fmtMs, parseDuration, timeEl } from '../format.js';
import { api, get } from '../api.js';
import { toast, jobActions } from '../actions.js';
import { sortableTable } from '../table.js';
import { chart } from '../chart.js';

const RUNS_PAGE = 100;
const LOG_BYTES = 65536;

function fact(label, ...value) {
  return el('div', {}, el('dt', { text: label }), el('dd', {}, value));
}

/** A job's `io:` in words: "weight 300; /dev/vda: wbps 2.0 MiB/s, riops 100". */
function ioText(io) {
  if (!io) return '—';
  const parts = io.weight != null ? [`weight ${io.weight}`] : [];
  for (const m of io.max ?? []) {
    const caps = [['rbps', m.rbps, true], ['wbps', m.wbps, true], ['riops', m.riops, false], ['wiops', m.wiops, false]]
      .filter(([, v]) => v != null)
      .map(([key, v, bytes]) => `${key} ${bytes ? `${fmtBytes(v)}/s` : v}`);
    parts.push(`${m.device}: ${caps.join(', ')}`);
  }
  return parts.join('; ') || '—';
}

/** A run's disk io cell: bytes written, bytes read below; '—' where not measured. */
function ioCell(run) {
  if (!run.io) return '—';
  return [`${fmtBytes(run.io.wbytes)} written`, el('span', { class: 'sub', text: `${fmtBytes(run.io.rbytes)} read` })];
}

/** What the pressure response did to a run: "frozen 12.0 s, throttled 30.0 s"; '' if nothing. */
function pressureText(run) {
  const p = run.pressure;
  if (!p) return '';
  const parts = [];
  if (p.frozen_ms || p.state === 'frozen') parts.push(`frozen ${fmtMs(p.frozen_ms)}`);
  if (p.throttled_ms || p.state === 'throttled') parts.push(`throttled ${fmtMs(p.throttled_ms)}`);
  return parts.join(', ');
}

/** The status cell: the run's status, where the pressure response holds it now, and below
 *  its exit and how long it was throttled or frozen. */
function statusCell(run) {
  const state = run.pressure?.state;
  const below = [runLabel(run), pressureText(run)].filter(Boolean).join(' · ');
  return [badge(run.status), state ? [' ', badge(state)] : null, el('span', { class: 'sub', text: below })];
}

/** A run the pressure response holds now gets its state's class (`pressure-frozen`). */
const pressureClass = (run) => (run.pressure?.state ? `pressure-${classWord(run.pressure.state)}` : '');

function runLabel(run) {
  if (run.status === 'running') return 'running';
  if (run.exit_code != null) return `exit ${run.exit_code}`;
  if (run.signal != null) return `signal ${run.signal}`;
  return '';
}

/** The #/jobs/<name> view: {title, load, interested(type, data), render(root, data, first)}. */
export const jobView = (name) => {
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
    { key: 'status', label: 'Status', sort: (r) => r.status, cell: statusCell },
    { key: 'trigger', label: 'Trigger', sort: (r) => r.trigger, cell: (r) => [r.trigger ?? '—', r.attempt > 1 ? el('span', { class: 'sub', text: `attempt ${r.attempt}` }) : null] },
    { key: 'started', label: 'Started', sort: (r) => r.started_at, cell: (r) => timeEl(r.started_at) },
    { key: 'duration', label: 'Duration', num: true, sort: (r) => r.duration_ms, cell: (r) => fmtMs(r.duration_ms) },
    { key: 'memory', label: 'Peak memory', num: true, sort: (r) => r.memory_peak_bytes, cell: (r) => fmtBytes(r.memory_peak_bytes) },
    { key: 'io', label: 'Disk I/O', num: true, sort: (r) => (r.io ? r.io.wbytes + r.io.rbytes : null), cell: ioCell },
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
        job.io ? fact('Disk I/O limits', ioText(job.io)) : null,
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
          onRowClick: (r) => showLog(r),
          rowClass: (r) => [r.id === selected ? 'selected' : '', pressureClass(r)].join(' ').trim() || null,
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
