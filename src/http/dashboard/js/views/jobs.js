// The jobs table (#/jobs): every job, sortable by any column, a filter over its words
// (kept across visits), and each job's run/enable/disable buttons.

import { el, fill, badge, jobLink } from '../dom.js';
import { fmtMs, timeEl } from '../format.js';
import { get } from '../api.js';
import { jobActions } from '../actions.js';
import { sortableTable, rankOf, HEALTH, EXECUTION, PERFORMANCE, PRIORITY } from '../table.js';

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

/** The #/jobs view: {title, load, interested(type), render(root, data, first)}. */
export const jobsView = () => {
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
