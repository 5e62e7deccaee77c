// End-to-end test of the dashboard against a daemon whose reads need the token: listening
// on 0.0.0.0 (not loopback) without `api.public_read`, reached here through 127.0.0.1.
// The page asks for the token on its first load, then reads the live event stream with
// that token in an `Authorization` header (js/events.js), never in the URL.
// Run by tests/e2e/run (after run.mjs).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startDaemon, PATIENCE_MS } from './daemon.mjs';
import { launch, openPage } from './browser.mjs';

// What Chromium logs for the 401s the page expects: the first load's and the stream's.
const EXPECTED_401 = /status of 401/;
/** The live update must beat this; the fallback polls every 15 s. */
const LIVE_WITHIN_MS = 5000;
const JOBS = {
  // Long enough to be seen running; its failure then raises an alert.
  'slow.yaml': 'description: Runs 3 s, then fails\ncommand: "sleep 3; exit 3"\nschedule: manual\n',
};

let daemon;
let browser;

describe('dashboard against a daemon whose reads need the token', () => {
  before(async () => {
    daemon = await startDaemon({ jobs: JOBS, examples: false, listen: '0.0.0.0:0' });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await daemon?.stop();
  });

  it('asks for the token, then shows a run started elsewhere at once over the authorised stream', async () => {
    const unauthorised = await fetch(`${daemon.base}api/v1/jobs`);
    assert.equal(unauthorised.status, 401, 'reads need the token on this listener');

    const { page, problems } = await openPage(browser.context, { allow: [EXPECTED_401] });
    const streams = [];
    const urls = [];
    page.on('request', (req) => {
      urls.push(req.url());
      if (new URL(req.url()).pathname === '/api/v1/events') streams.push(req.headers().authorization ?? null);
    });
    await page.goto(daemon.base);
    const dialog = page.getByRole('dialog', { name: 'API token needed' });
    await dialog.waitFor({ state: 'visible', timeout: PATIENCE_MS });
    await page.getByRole('textbox', { name: 'Token' }).fill(daemon.token);
    await page.getByRole('button', { name: 'Save and retry' }).click();
    await page.waitForSelector('#view[data-ready="overview"]', { timeout: PATIENCE_MS });
    await page.locator('#conn.live').waitFor({ timeout: PATIENCE_MS });
    assert.equal(await page.locator('#conn').textContent(), 'live');
    assert.equal(await page.locator('[data-count="running"] .count').textContent(), '0');

    await page.evaluate(() => { window.__sameDocument = true; });
    const started = Date.now();
    await daemon.api('POST', '/jobs/slow/run');
    await page.locator('[data-count="running"] .count', { hasText: /^1$/ }).waitFor({ timeout: PATIENCE_MS });
    const tookMs = Date.now() - started;
    assert.ok(tookMs < LIVE_WITHIN_MS, `the running run showed after ${tookMs} ms (live: < ${LIVE_WITHIN_MS}; the poll would take 15 s)`);
    // Its end (and the alert its failure raises) arrives the same way.
    await page.locator('[data-count^="alerts"] .count', { hasText: /^1$/ }).waitFor({ timeout: PATIENCE_MS });
    assert.equal(await page.locator('[data-count="running"] .count').textContent(), '0');
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
    assert.equal(await page.locator('#conn').textContent(), 'live');

    assert.ok(streams.includes(`Bearer ${daemon.token}`), `a stream request carried the token: ${JSON.stringify(streams)}`);
    assert.deepEqual(urls.filter((u) => u.includes(daemon.token)), [], 'the token is in no URL');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
