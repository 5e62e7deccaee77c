// Formatting of the API's figures for people: byte counts, durations in ms, slotcron's
// duration words, dates in the browser's time zone, and trend percentages.

import { el } from './dom.js';

/** 1536 -> "1.5 KiB"; '—' for null. */
export function fmtBytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(n);
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** 1500 -> "1.50 s", 90000 -> "1m 30s"; '—' for null. */
export function fmtMs(ms) {
  if (ms == null) return '—';
  const n = Number(ms);
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60000) return `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} s`;
  const s = Math.round(n / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** "10m", "1h30m", "500ms" (slotcron's duration words) in ms; null if unreadable. */
export function parseDuration(text) {
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
export function timeEl(iso, { withRelative = false } = {}) {
  if (!iso) return el('span', { class: 'muted', text: '—' });
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('span', { text: String(iso) });
  return el('time', { datetime: iso, title: `${iso} (${relative(date)})` },
    dateFmt.format(date), withRelative ? el('span', { class: 'sub', text: relative(date) }) : null);
}

/** A change in percent, "+4.2 %", classed `trend-up`/`trend-down` beyond ±0.5. */
export function fmtPct(pct) {
  if (pct == null) return el('span', { class: 'muted', text: '—' });
  const n = Number(pct);
  const cls = n > 0.5 ? 'trend-up' : n < -0.5 ? 'trend-down' : '';
  return el('span', { class: cls, text: `${n > 0 ? '+' : ''}${n.toFixed(1)} %` });
}
