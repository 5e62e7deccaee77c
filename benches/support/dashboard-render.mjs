// The browser half of benches/dashboard-render: loads the dashboard's overview LOADS + 1
// times in headless Chromium (a new page each time; the first load only warms up) and
// prints the medians of: navigation start until the overview's counts and slot gauges are
// rendered (the `slotcron-ready` performance mark the page sets after its first full
// render), DOMContentLoaded, and each API request the overview made.
// Usage: node benches/support/dashboard-render.mjs BASE_URL [LOADS] [EXPECTED_JOBS]

import { launch } from '../../tests/e2e/browser.mjs';

const [base, loadsArg = '10', expectedArg] = process.argv.slice(2);
const loads = Number(loadsArg);
const TARGET_MS = 1000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const browser = await launch();
const samples = [];
try {
  for (let i = 0; i <= loads; i++) {
    const page = await browser.context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(base, { waitUntil: 'commit' });
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: 60000 });
    const sample = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const api = {};
      for (const r of performance.getEntriesByType('resource')) {
        const url = new URL(r.name);
        if (url.pathname.includes('/api/v1/') && !url.pathname.endsWith('/events')) api[url.pathname + url.search] = r.responseEnd - r.startTime;
      }
      return {
        ready: performance.getEntriesByName('slotcron-ready')[0].startTime,
        dcl: nav.domContentLoadedEventEnd,
        api,
        jobs: Number(document.querySelector('[data-count="total"] .count').textContent),
        slots: document.querySelectorAll('#slots .slot').length,
      };
    });
    await page.close();
    if (errors.length) throw new Error(`the page logged errors: ${errors.join('; ')}`);
    if (expectedArg && sample.jobs !== Number(expectedArg)) throw new Error(`the overview counted ${sample.jobs} jobs, not ${expectedArg}`);
    if (i > 0) samples.push(sample);
  }
} finally {
  await browser.close();
}

const row = (label, ms, target) => console.log(`  ${label.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms${target ? `   < ${target} ms  ${ms < target ? 'met' : 'MISSED'}` : ''}`);
console.log(`dashboard overview in headless Chromium, ${samples[0].jobs} jobs, ${samples[0].slots} slots, median of ${samples.length} loads:`);
row('navigation start until rendered (data-ready)', median(samples.map((s) => s.ready)), TARGET_MS);
row('  DOMContentLoaded', median(samples.map((s) => s.dcl)));
for (const path of Object.keys(samples[0].api).sort()) {
  row(`  GET ${path}`, median(samples.map((s) => s.api[path] ?? NaN)));
}
