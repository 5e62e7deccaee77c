// The alerts page (#/alerts): open alerts with an acknowledge button, and the latest 100
// acknowledged or resolved ones. An alert judged against the baseline shows its evidence:
// the rule that fired with the ratio and z-score the server computed (its message says it
// all in words); every string goes in as text.

import { el, fill, assemble, badge, jobLink } from '../dom.js';
import { timeEl } from '../format.js';
import { get } from '../api.js';
import { actionButton } from '../actions.js';
import { sortableTable, rankOf, SEVERITY } from '../table.js';

const ALERT_COLUMNS = (withAck) => [
  { key: 'severity', label: 'Severity', sort: (a) => rankOf(SEVERITY, a.severity), cell: (a) => badge(a.severity) },
  { key: 'job', label: 'Job', sort: (a) => a.job, cell: (a) => (a.job ? jobLink(a.job) : '—') },
  { key: 'kind', label: 'Kind', sort: (a) => a.kind, cell: (a) => String(a.kind ?? '').replace(/_/g, ' ') },
  { key: 'message', label: 'Message', cell: (a) => a.message ?? '' },
  { key: 'evidence', label: 'Evidence', cell: evidence },
  { key: 'count', label: 'Count', num: true, sort: (a) => a.count, cell: (a) => (a.reopened ? `${a.count ?? 1} (reopened ${a.reopened})` : String(a.count ?? 1)) },
  { key: 'first', label: 'First seen', sort: (a) => a.first_seen ?? a.opened_at, cell: (a) => timeEl(a.first_seen ?? a.opened_at) },
  { key: 'last', label: 'Last seen', sort: (a) => a.last_seen ?? a.last_at, cell: (a) => timeEl(a.last_seen ?? a.last_at) },
  { key: 'state', label: 'State', sort: (a) => a.state, cell: (a) => badge(a.state) },
  withAck
    ? { key: 'ack', label: 'Actions', hidden: true, class: 'actions', cell: (a) => (a.state === 'open' ? actionButton('Acknowledge', `/alerts/${encodeURIComponent(a.id)}/ack`, { ariaLabel: `Acknowledge alert ${a.id} (${a.kind} on ${a.job})` }) : '') }
    : null,
].filter(Boolean);

/** The evidence of an alert, one line per figure: `slower: 2.5x, z 17.9` (the summary as
 * the line's title); nothing for kinds not judged against the baseline. */
function evidence(a) {
  const items = Array.isArray(a.evidence) ? a.evidence : [];
  if (items.length === 0) return '';
  return el('ul', { class: 'evidence' }, items.map((e) =>
    el('li', { title: e.summary ?? '', text: `${e.rule}: ${e.ratio}x, z ${e.z} (${e.figure}, ${e.runs === 1 ? 'one run' : `median of ${e.runs}`})` })));
}

/** The #/alerts view: {title, load, interested(type), render(root, data, first)}. */
export const alertsView = () => {
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
