// End-to-end tests of the dashboard: Debian's headless Chromium against a real
// `slotcron daemon` started here on loopback with the repository's example jobs plus a few
// of our own. Run with `bash tests/e2e/run` (builds, installs what is missing), or
// `SLOTCRON_BIN=... node --test tests/e2e/run.mjs` once built.
// Artifacts (the overview's screenshot) go to $E2E_ARTIFACTS, default <repo>/target/e2e.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startDaemon, waitFor, REPO, PATIENCE_MS } from './daemon.mjs';
import { launch, openPage } from './browser.mjs';

const ARTIFACTS = process.env.E2E_ARTIFACTS ?? join(REPO, 'target', 'e2e');
const EXAMPLES = readdirSync(join(REPO, 'jobs.d')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
const MARKUP = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=2</script>',
];
// While this file exists, `slows` takes 10 times as long: an anomaly against its baseline.
const SLOW_MARK = join(tmpdir(), `slotcron-e2e-slow-${process.pid}`);
const JOBS = {
  // Twenty quick runs make its baseline (`baseline_runs: 20` below: with fewer, one run is
  // not judged unusual); a slow one is an anomaly whose evidence the alerts page shows
  // (src/alerts/performance.rs).
  'slows.yaml': `description: Slow while ${SLOW_MARK} exists\ncommand: "if [ -e ${SLOW_MARK} ]; then sleep 2; else sleep 0.2; fi"\nschedule: manual\ncategory: evidence\nalerts: { slower: { at_least: 1s } }\n`,
  // A failed run raises a `failure` alert (src/alerts/rules.rs).
  'fails.yaml': 'description: Always fails\ncommand: "echo about to fail; exit 3"\nschedule: manual\ncategory: e2e\n',
  // Log output that looks like HTML must stay text.
  'markup.yaml': `description: Prints markup\ncommand: |\n${MARKUP.map((line) => `  echo '${line}'`).join('\n')}\nschedule: manual\ncategory: e2e\n`,
  // Nothing but the required keys: every optional field is null in the API.
  'bare.yaml': 'command: "true"\nschedule: manual\n',
  // A run that lasts until it is killed, for the pressure response's marks.
  'holds.yaml': 'description: Runs until killed\ncommand: "sleep 60"\nschedule: manual\ncategory: pressure\npriority: low\n',
};
const ALL_JOBS = [...EXAMPLES, ...Object.keys(JOBS).map((f) => f.replace(/\.yaml$/, ''))].sort();
/** What a view shows when it prints a missing field instead of handling it. */
const LEAKED = /\b(null|undefined|NaN)\b|\[object /;
// What Chromium logs for an answer the page expects and handles: the 401 that asks for the
// token.
const EXPECTED_401 = /status of 401/;

let daemon;
let browser;

/** Opens `hash` and waits until the view has rendered its data. */
async function visit(page, hash, view) {
  await page.goto(`${daemon.base}${hash}`);
  await page.waitForSelector(`#view[data-ready="${view}"]`, { timeout: PATIENCE_MS });
}

/** Starts a run of `job` through the API and waits until it has finished; returns it. */
async function runToEnd(job) {
  const before = (await daemon.api('GET', `/jobs/${job}/runs?limit=1`)).runs[0]?.id ?? 0;
  await daemon.api('POST', `/jobs/${job}/run`);
  return waitFor(`a finished run of ${job}`, async () => {
    const run = (await daemon.api('GET', `/jobs/${job}/runs?limit=1`)).runs[0];
    return run && run.id > before && run.status !== 'running' ? run : undefined;
  });
}

/** The job names in the jobs table, top to bottom. */
const tableNames = (page) => page.locator('#view tbody tr td:first-child a').allTextContents();

describe('dashboard in headless Chromium against a real daemon', () => {
  before(async () => {
    daemon = await startDaemon({ jobs: JOBS, extraConfig: 'baseline_runs: 20\n' });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  it('loads every view without console or page errors, and screenshots the overview', async () => {
    const { page, problems } = await openPage(browser.context);
    await visit(page, '', 'overview');
    const total = await page.locator('[data-count="total"] .count').textContent();
    assert.equal(Number(total), ALL_JOBS.length, 'the overview counts every job');
    const slots = (await daemon.api('GET', '/slots')).slots.map((s) => s.name).sort();
    const shown = (await page.locator('#slots .slot').evaluateAll((nodes) => nodes.map((n) => n.dataset.slot))).sort();
    assert.deepEqual(shown, slots, 'one gauge card per slot');
    assert.equal(await page.locator('#slots .slot').first().getByRole('meter').count(), 2, 'seats and memory gauges');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    assert.doesNotMatch(await page.locator('#view').innerText(), LEAKED);
    for (const [hash, view] of [['#/jobs', 'jobs'], ['#/jobs/backup', 'job'], ['#/jobs/bare', 'job'], ['#/alerts', 'alerts'], ['#/health', 'health']]) {
      await visit(page, hash, view);
      assert.doesNotMatch(await page.locator('#view').innerText(), LEAKED, `view ${hash}`);
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('lists the example jobs in the jobs table, each with its actions', async () => {
    const { page, problems } = await openPage(browser.context);
    await visit(page, '#/jobs', 'jobs');
    assert.deepEqual(await tableNames(page), ALL_JOBS);
    assert.equal(await page.getByRole('button', { name: 'Run backup now' }).count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Disable backup' }).count(), 1);
    assert.equal(await page.locator('#job-count').textContent(), `${ALL_JOBS.length} of ${ALL_JOBS.length} jobs`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('sorts by a clicked column and filters by the text typed', async () => {
    const { page, problems } = await openPage(browser.context);
    await visit(page, '#/jobs', 'jobs');
    const nameHeader = page.locator('th', { has: page.getByRole('button', { name: 'Name', exact: true }) });
    assert.equal(await nameHeader.getAttribute('aria-sort'), 'ascending');
    await page.getByRole('button', { name: 'Name', exact: true }).click();
    assert.equal(await nameHeader.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await tableNames(page), [...ALL_JOBS].reverse());

    await page.getByRole('button', { name: 'Priority', exact: true }).click();
    const order = ['critical', 'high', 'medium', 'low'];
    const priorities = await page.locator('#view tbody tr td:nth-child(3)').allTextContents();
    const ranks = priorities.map((p) => order.indexOf(p));
    assert.ok(!ranks.includes(-1), `known priorities: ${priorities}`);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `highest priority first: ${priorities}`);
    assert.equal((await tableNames(page))[0], 'backup', 'the one high-priority example job leads');

    await page.getByLabel('Filter').fill('heartbeat');
    assert.deepEqual(await tableNames(page), ['heartbeat']);
    assert.equal(await page.locator('#job-count').textContent(), `1 of ${ALL_JOBS.length} jobs`);
    await page.getByLabel('Filter').fill('e2e'); // a category
    assert.deepEqual((await tableNames(page)).sort(), ['fails', 'markup']);
    await page.getByLabel('Filter').fill('no such job anywhere');
    assert.deepEqual(await tableNames(page), []);
    assert.match(await page.locator('#view tbody').textContent(), /No job matches/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('"Run now" asks for the token once, keeps it, and the run shows in the job\'s list', async () => {
    const { page, problems } = await openPage(browser.context, { allow: [EXPECTED_401] });
    await visit(page, '#/jobs/sync', 'job');
    const before = (await daemon.api('GET', '/jobs/sync/runs?limit=1')).runs[0]?.id ?? 0;
    await page.getByRole('button', { name: 'Run sync now' }).click();
    const dialog = page.getByRole('dialog', { name: 'API token needed' });
    await dialog.waitFor({ state: 'visible' });
    await page.getByRole('textbox', { name: 'Token' }).fill(daemon.token);
    await page.getByRole('button', { name: 'Save and retry' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const run = await waitFor('the API to list the new run of sync', async () => {
      const newest = (await daemon.api('GET', '/jobs/sync/runs?limit=1')).runs[0];
      return newest && newest.id > before ? newest : undefined;
    });
    assert.equal(run.trigger, 'manual');
    await page.getByRole('button', { name: `Show the log of run ${run.id}` }).waitFor({ timeout: PATIENCE_MS });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('slotcron.token')), daemon.token);
    // The run ends ("sleep 1; echo synced ..."): the row turns to success by itself (SSE).
    const row = page.locator('#view tbody tr', { has: page.getByRole('button', { name: `Show the log of run ${run.id}` }) });
    await row.locator('.badge.status-success').waitFor({ timeout: PATIENCE_MS });
    // A second action goes through without asking again.
    await page.getByRole('button', { name: 'Disable sync' }).click();
    await page.getByRole('button', { name: 'Enable sync' }).waitFor({ timeout: PATIENCE_MS });
    assert.equal((await daemon.api('GET', '/jobs/sync')).effective_enabled, false);
    assert.equal(await dialog.isVisible(), false);
    await page.getByRole('button', { name: 'Enable sync' }).click();
    await page.getByRole('button', { name: 'Disable sync' }).waitFor({ timeout: PATIENCE_MS });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows a run started elsewhere without a reload (server-sent events)', async () => {
    const { page, problems } = await openPage(browser.context);
    await visit(page, '#/jobs/fails', 'job');
    await page.locator('#conn.live').waitFor({ timeout: PATIENCE_MS });
    const run = await runToEnd('fails');
    const row = page.locator('#view tbody tr', { has: page.getByRole('button', { name: `Show the log of run ${run.id}` }) });
    await row.locator('.badge.status-failed').waitFor({ timeout: PATIENCE_MS });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows each run\'s disk io, "—" where the kernel did not measure it (enforcement off)', async () => {
    const run = await runToEnd('fails');
    assert.equal(run.io, null);
    const { page, problems } = await openPage(browser.context);
    await visit(page, '#/jobs/fails', 'job');
    await page.getByRole('columnheader', { name: /Disk I\/O/ }).waitFor({ timeout: PATIENCE_MS });
    const row = page.locator('#view tbody tr', { has: page.getByRole('button', { name: `Show the log of run ${run.id}` }) });
    const headers = await page.locator('#view thead th').allTextContents();
    const column = headers.findIndex((h) => h.includes('Disk I/O'));
    assert.equal((await row.locator('td').nth(column).textContent()).trim(), '—');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('marks a run the pressure response holds frozen, with how long, until it ends', async () => {
    // This daemon runs unconfined (enforcement: off, as CI machines may lack cgroup v2), so
    // nothing here can freeze a run. The run is real, and so is the API's answer; into it
    // goes the `pressure` a daemon on cgroups gives a frozen run in progress (the shape
    // tests/integration/pressure.rs asserts on its API), as long as the run is running.
    const before = (await daemon.api('GET', '/jobs/holds/runs?limit=1')).runs[0]?.id ?? 0;
    await daemon.api('POST', '/jobs/holds/run');
    const run = await waitFor('a running run of holds', async () => {
      const newest = (await daemon.api('GET', '/jobs/holds/runs?limit=1')).runs[0];
      return newest && newest.id > before && newest.status === 'running' ? newest : undefined;
    });
    assert.equal(run.pressure, null, 'an unconfined run is never acted on');
    const now = Date.now();
    const frozen = {
      state: 'frozen', throttled_since: new Date(now - 30000).toISOString(),
      frozen_since: new Date(now - 12000).toISOString(), throttled_ms: 30000, frozen_ms: 12000,
    };
    const { page, problems } = await openPage(browser.context);
    await page.route(/\/api\/v1\/jobs\/holds\/runs/, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      for (const r of body.runs) if (r.id === run.id && r.status === 'running') r.pressure = frozen;
      await route.fulfill({ response, json: body });
    });
    await visit(page, '#/jobs/holds', 'job');
    const row = page.locator('#view tbody tr', { has: page.getByRole('button', { name: `Show the log of run ${run.id}` }) });
    await row.locator('.badge.status-frozen').waitFor({ timeout: PATIENCE_MS });
    assert.match(await row.getAttribute('class'), /\bpressure-frozen\b/);
    const status = row.locator('td').nth(1);
    assert.equal(await status.locator('.badge.status-running').count(), 1, 'still a run in progress');
    assert.match(await status.textContent(), /frozen 12\.0 s, throttled 30\.0 s/);
    // Killed, it ends and no longer looks frozen: the page follows by itself (SSE).
    await daemon.api('POST', `/runs/${run.id}/kill`);
    await row.locator('.badge.status-killed').waitFor({ timeout: PATIENCE_MS });
    assert.equal(await row.locator('.badge.status-frozen').count(), 0);
    assert.doesNotMatch((await row.getAttribute('class')) ?? '', /pressure-frozen/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('acknowledges an open alert', async () => {
    await runToEnd('fails');
    const alert = await waitFor('an open alert on `fails`', async () =>
      (await daemon.api('GET', '/alerts?state=open')).alerts.find((a) => a.job === 'fails'));
    const { page, problems } = await openPage(browser.context);
    await page.addInitScript((token) => sessionStorage.setItem('slotcron.token', token), daemon.token);
    await visit(page, '#/alerts', 'alerts');
    const ack = page.getByRole('button', { name: new RegExp(`^Acknowledge alert ${alert.id} `) });
    await ack.click();
    await ack.waitFor({ state: 'detached', timeout: PATIENCE_MS });
    const recent = page.locator('#recent-table tbody tr', { hasText: alert.message });
    await recent.locator('.badge.status-acknowledged').waitFor({ timeout: PATIENCE_MS });
    const acknowledged = (await daemon.api('GET', '/alerts?state=acknowledged')).alerts.map((a) => a.id);
    assert.ok(acknowledged.includes(alert.id), `alert ${alert.id} acknowledged in the daemon`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows the evidence of an alert judged against the baseline', async () => {
    for (let i = 0; i < 20; i++) await runToEnd('slows');
    writeFileSync(SLOW_MARK, '');
    let slow;
    try {
      slow = await runToEnd('slows');
    } finally {
      rmSync(SLOW_MARK, { force: true });
    }
    const alert = await waitFor('an anomaly on `slows`', async () =>
      (await daemon.api('GET', '/alerts?state=open')).alerts.find((a) => a.job === 'slows' && a.kind === 'anomaly'));
    assert.equal(alert.last_run_id, slow.id);
    const [evidence] = alert.evidence;
    assert.equal(evidence.rule, 'slower');
    assert.equal(evidence.value, slow.duration_ms);
    const { page, problems } = await openPage(browser.context);
    await visit(page, '#/alerts', 'alerts');
    const row = page.locator('#open-table tbody tr', { hasText: alert.message });
    const item = row.locator('ul.evidence li');
    assert.equal(await item.textContent(), `slower: ${evidence.ratio}x, z ${evidence.z} (duration, one run)`);
    assert.equal(await item.getAttribute('title'), evidence.summary);
    assert.ok(alert.message.includes(evidence.summary), 'the message carries the evidence in words');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows a log tail as text: markup in the output creates no element', async () => {
    const run = await runToEnd('markup');
    const { page, problems } = await openPage(browser.context);
    await visit(page, '#/jobs/markup', 'job');
    await page.getByRole('button', { name: `Show the log of run ${run.id}` }).click();
    const log = page.locator('#log-text');
    await page.waitForFunction(() => document.querySelector('#log-text')?.textContent.includes('<script>'));
    for (const line of MARKUP) assert.ok((await log.textContent()).includes(line), `log shows ${line}`);
    assert.equal(await page.locator('#log-text *').count(), 0, 'the log is one text node');
    assert.equal(await page.locator('img').count(), 0, 'no <img> was made from the log');
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script from the log ran');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
