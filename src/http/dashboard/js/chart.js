// The job page's SVG chart (hand-written, no library: docs/adr/0018): a point per run
// against the baseline band, the median and p95 lines and the limit; OOM kills marked.

import { el, svg, assemble, tone } from './dom.js';

/**
 * One SVG panel: a point per run (oldest left), the baseline band (median ± MAD), the
 * median and p95 lines, and the limit (drawn at its height when in range, else named).
 */
export function chart({ title, runs, value, format, baseline, limit, onPick }) {
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
