// The health page (#/health): jobs counted by health and by execution, the jobs worst
// first, and performance trends (the newest successful runs' medians against the
// baseline: the figures the `degraded` verdict judges), degraded first, with why.

import { $, el, fill, assemble, badge, classWord, jobLink } from '../dom.js';
import { fmtBytes, fmtMs, fmtPct, timeEl } from '../format.js';
import { get } from '../api.js';
import { sortableTable, compare, rankOf, HEALTH, EXECUTION, PERFORMANCE } from '../table.js';

function countsBy(jobs, order, pick) {
  return el('div', { class: 'cards' }, order.map((word) =>
    el('div', { class: `card ${classWord(word)}` },
      el('span', { class: 'count', text: jobs.filter((j) => pick(j) === word).length }),
      el('span', { class: 'label', text: word.replace(/_/g, ' ') }))));
}

const trendSize = (j) => Math.max(j.trend?.duration_change_pct ?? -Infinity, j.trend?.memory_change_pct ?? -Infinity);

/** The #/health view: {title, load, interested(type), render(root, data, first)}. */
export const healthView = () => {
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
          { key: 'why', label: 'Why degraded', cell: (j) => (j.health?.degradation ?? []).map((e) => el('div', { class: 'evidence', text: e.summary ?? '' })) },
          { key: 'duration', label: 'Recent duration vs baseline', num: true, sort: (j) => -(j.trend?.duration_change_pct ?? -Infinity), cell: (j) => fmtPct(j.trend?.duration_change_pct) },
          { key: 'memory', label: 'Recent memory vs baseline', num: true, sort: (j) => -(j.trend?.memory_change_pct ?? -Infinity), cell: (j) => fmtPct(j.trend?.memory_change_pct) },
          { key: 'median', label: 'Baseline median', num: true, sort: (j) => j.health?.baseline?.duration_median_ms, cell: (j) => fmtMs(j.health?.baseline?.duration_median_ms) },
          { key: 'avg24', label: '24 h average', num: true, sort: (j) => j.health?.rolling_24h?.duration_avg_ms, cell: (j) => fmtMs(j.health?.rolling_24h?.duration_avg_ms) },
          { key: 'mem24', label: '24 h peak memory', num: true, sort: (j) => j.health?.rolling_24h?.memory_peak_max_bytes, cell: (j) => fmtBytes(j.health?.rolling_24h?.memory_peak_max_bytes) },
        ], { caption: 'Performance trends, degraded first', initial: { key: 'degraded', dir: 1 } });
        fill(root, el('h1', { text: 'Health' }),
          el('h2', { text: 'By health' }), el('div', { id: 'health-counts' }),
          el('h2', { text: 'By execution' }), el('div', { id: 'execution-counts' }),
          el('h2', { text: 'Jobs, worst first' }), assemble(worst.node, { id: 'worst-table' }, []),
          el('h2', { text: 'Performance trends: the newest successful runs against the baseline, degraded first' }),
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
