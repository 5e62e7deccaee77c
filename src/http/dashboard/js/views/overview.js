// The overview (#/): job counts by health, open alerts and runs in progress as cards, and
// each slot's seats and memory as gauges against its limits, repainted by `slots` events.

import { el, fill } from '../dom.js';
import { fmtBytes } from '../format.js';
import { get } from '../api.js';

function gauge(label, value, max, format) {
  const bar = el('div', { class: 'gauge-fill' });
  const share = max ? Math.min(1, Number(value ?? 0) / Number(max)) : 0;
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  if (share >= 1) bar.classList.add('full');
  else if (share >= 0.8) bar.classList.add('high');
  const shown = value == null ? 'not measured' : max ? `${format(value)} / ${format(max)}` : `${format(value)} (no limit)`;
  return el('div', { class: 'gauge' },
    el('div', { class: 'gauge-head' }, el('span', { text: label }), el('span', { class: 'gauge-value', text: shown })),
    el('div', {
      class: 'gauge-track', role: 'meter', 'aria-label': label,
      'aria-valuemin': 0, 'aria-valuemax': max ?? value ?? 0, 'aria-valuenow': value ?? 0, 'aria-valuetext': shown,
    }, bar));
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

/** The #/ view: {title, load, interested(type), render(root, data), onSlots(body)}. */
export const overviewView = () => {
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
