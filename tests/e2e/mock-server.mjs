// A small stand-in for the daemon's HTTP API, for working on the dashboard's looks without
// building or running slotcron: serves the files of src/http/dashboard/ as the daemon does
// (`/` is index.html, `/assets/<path>` the file at <path>; read on every request, so an
// edit shows on reload) with the real CSP, and fixture JSON shaped
// as docs say (the API contract). The e2e tests do NOT use it; they run the real daemon.
//
// Usage: node tests/e2e/mock-server.mjs [PORT]   (default 9747; token: "mock")

import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, extname, join, normalize } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../src/http/dashboard');
const port = Number(process.argv[2] ?? 9747);
const TOKEN = 'mock';
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";

const now = Date.now();
const iso = (offsetMs) => new Date(now + offsetMs).toISOString();
let nextRunId = 1;
const runs = [];
function addRun(job, status, durationMs, peak, agoMs, extra = {}) {
  const id = nextRunId++;
  runs.push({
    id, job, slot: 'default', status, exit_code: status === 'success' ? 0 : status === 'failed' ? 3 : null,
    signal: status === 'oom_killed' ? 9 : null, started_at: iso(-agoMs), finished_at: iso(-agoMs + durationMs),
    duration_ms: durationMs, memory_peak_bytes: peak, memory_limit_bytes: 256 << 20, trigger: 'schedule',
    attempt: 1, wait_ms: 12, error: null, log_path: `state/logs/${job}/${id}.log`, pressure: null, ...extra,
  });
}
for (let i = 0; i < 40; i++) {
  const status = i === 30 ? 'oom_killed' : i % 13 === 7 ? 'failed' : 'success';
  addRun('report', status, 800 + Math.round(200 * Math.sin(i)) + (i > 34 ? 600 : 0), (90 + (i % 7) * 6) << 20, (40 - i) * 900000);
}
addRun('xss<img src=x onerror=alert(1)>', 'failed', 5, 1 << 20, 60000, { error: '<b>not bold</b>' });
// Runs the pressure response acted on: one that was throttled and frozen for a while, and
// one it holds frozen now.
addRun('sync', 'success', 95000, 80 << 20, 3600000, { pressure: { state: null, throttled_since: null, frozen_since: null, throttled_ms: 41000, frozen_ms: 30500 } });
addRun('sync', 'running', 0, null, 120000, {
  finished_at: null, duration_ms: null, exit_code: null,
  pressure: { state: 'frozen', throttled_since: iso(-50000), frozen_since: iso(-45000), throttled_ms: 50000, frozen_ms: 45000 },
});

const health = (status, execution, performance, baseline = null) => ({
  status, execution, performance, baseline, baseline_missing: baseline ? null : '3 of 10 successful runs',
  rolling_24h: { runs: 12, failures: 1, oom_kills: 0, duration_avg_ms: 1100, duration_max_ms: 1500, memory_peak_max_bytes: 120 << 20 },
  overdue_since: null,
});
const baseline = { duration_median_ms: 820, duration_p95_ms: 1010, duration_mad_ms: 90, memory_median_bytes: 105 << 20, memory_max_bytes: 126 << 20, memory_mad_bytes: 10 << 20, runs: 10 };
function job(name, over = {}) {
  const last = [...runs].reverse().find((r) => r.job === name) ?? null;
  return {
    name, file: `jobs.d/${name}.yaml`, description: `The ${name} job`, command: 'echo hi', schedule_text: '*/15 * * * *',
    timezone: null, slot: 'default', priority: 'medium', category: 'reporting', tags: ['example'], enabled: true,
    limits: { memory: 256 << 20, cpu: 0.5, pids: 64, timeout: '1m' }, enabled_override: null, tripped_until: null,
    last_run: last, health: health('healthy', 'ok', 'stable', baseline), effective_enabled: true, state: 'idle',
    next_run: iso(600000), running: 0, consecutive_failures: 0, last_error: null,
    trend: { duration_change_pct: 4.2, memory_change_pct: -1.5 }, ...over,
  };
}
const jobs = () => [
  job('backup', { slot: 'heavy', priority: 'high', category: 'backup', schedule_text: '0 2 * * *', health: health('warning', 'overdue', 'unknown') }),
  job('report', { health: health('critical', 'failing', 'degraded', baseline), consecutive_failures: 3, last_error: 'exit code 3', trend: { duration_change_pct: 61.0, memory_change_pct: 12.5 } }),
  job('sync', { slot: 'light', priority: 'low', category: 'sync', state: 'running', running: 1 }),
  job('xss<img src=x onerror=alert(1)>', { category: '<i>cat</i>', schedule_text: 'manual', next_run: null, effective_enabled: false, state: 'disabled' }),
];
const alerts = [
  { id: 1, job: 'report', kind: 'failure', severity: 'error', state: 'open', message: 'run 8 failed with exit code 3', count: 3, opened_at: iso(-7200000), last_at: iso(-60000), acknowledged_at: null, resolved_at: null },
  { id: 2, job: 'report', kind: 'oom_kill', severity: 'critical', state: 'resolved', message: 'run 31 was killed by the kernel', count: 1, opened_at: iso(-9000000), last_at: iso(-9000000), acknowledged_at: null, resolved_at: iso(-3600000) },
];
const slots = () => ({
  slots: [
    { name: 'default', max_concurrent: 5, running: 1, queued: 0, queue_limit: 100, memory_max_bytes: 3 * 2 ** 30, memory_reserved_bytes: 512 << 20, cpu_max_percent: 80, pids_max: 512, live: { memory_current_bytes: (700 + Math.round(Math.random() * 300)) << 20, memory_peak_bytes: 2 ** 30, cpu_usage_usec: 1, cpu_percent: 12.5, pids_current: 4, psi: { memory_some_avg10: 0, cpu_some_avg10: 0.4, io_some_avg10: 0 } } },
    { name: 'heavy', max_concurrent: 1, running: 1, queued: 2, queue_limit: 10, memory_max_bytes: 2 * 2 ** 30, memory_reserved_bytes: null, cpu_max_percent: null, pids_max: null, live: null },
  ],
  global: { memory_max_bytes: 6 * 2 ** 30, enforcement: 'mock', paused: null },
});

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const error = (res, status, code, message) => send(res, status, { error: { code, message } }, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});

createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = decodeURIComponent(url.pathname);
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const file = p === '/' ? 'index.html' : p.startsWith('/assets/') ? normalize(p.slice('/assets/'.length)) : null;
  if (file && !file.startsWith('..') && types[extname(file)] && existsSync(join(root, file))) {
    res.writeHead(200, { 'Content-Type': `${types[extname(file)]}; charset=utf-8`, 'Content-Security-Policy': CSP, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    return res.end(readFileSync(join(root, file)));
  }
  if (req.method === 'POST' && req.headers.authorization !== `Bearer ${TOKEN}`) return error(res, 401, 'unauthorized', 'token missing or wrong');
  let m;
  if (p === '/api/v1/jobs') return send(res, 200, { generated_at: iso(0), jobs: jobs() });
  if ((m = p.match(/^\/api\/v1\/jobs\/(.+)\/runs$/))) {
    return send(res, 200, { runs: runs.filter((r) => r.job === m[1]).reverse().slice(0, Number(url.searchParams.get('limit') ?? 50)), next_before: null });
  }
  if ((m = p.match(/^\/api\/v1\/jobs\/(.+)\/(run|enable|disable)$/)) && req.method === 'POST') {
    if (m[2] === 'run') addRun(m[1], 'success', 900, 100 << 20, 0);
    return send(res, m[2] === 'run' ? 202 : 200, { message: `${m[2]}: ${m[1]}`, queued: false, enabled: m[2] === 'enable' });
  }
  if ((m = p.match(/^\/api\/v1\/jobs\/(.+)$/))) {
    const found = jobs().find((j) => j.name === m[1]);
    return found ? send(res, 200, found) : error(res, 404, 'not_found', `no job named \`${m[1]}\``);
  }
  if ((m = p.match(/^\/api\/v1\/runs\/(\d+)\/log$/))) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'X-Slotcron-Log-Truncated': 'false' });
    return res.end(`run ${m[1]}\n<img src=x onerror="document.title='pwned'">\n<script>alert(1)</script>\n`);
  }
  if (p === '/api/v1/alerts') {
    const state = url.searchParams.get('state') ?? 'open';
    return send(res, 200, { alerts: alerts.filter((a) => state === 'all' || a.state === state) });
  }
  if ((m = p.match(/^\/api\/v1\/alerts\/(\d+)\/ack$/)) && req.method === 'POST') {
    const alert = alerts.find((a) => a.id === Number(m[1]));
    if (!alert) return error(res, 404, 'not_found', 'no alert');
    if (alert.state !== 'open') return error(res, 409, 'conflict', 'already acknowledged');
    alert.state = 'acknowledged';
    return send(res, 200, { message: `alert ${alert.id} acknowledged` });
  }
  if (p === '/readyz') return send(res, 200, { status: 'ready', checks: { database: 'ok', cgroups: 'unconfined: mock' } });
  if (p === '/api/v1/slots') return send(res, 200, slots());
  if (p === '/api/v1/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const tick = () => res.write(`event: slots\ndata: ${JSON.stringify(slots())}\n\n`);
    tick();
    const timer = setInterval(tick, 3000);
    return req.on('close', () => clearInterval(timer));
  }
  if (p.startsWith('/api/')) return error(res, 404, 'not_found', `no route ${p}`);
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
}).listen(port, '127.0.0.1', () => console.log(`mock slotcron API on http://127.0.0.1:${port}/ (token: ${TOKEN})`));
