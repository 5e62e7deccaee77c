// Fixture: a real `slotcron daemon` in a temp dir (as tests/integration/helper.rs's Sandbox
// and Daemon): `enforcement: off` (this suite is about the page, not the kernel, and CI
// machines may lack cgroup v2), the HTTP listener on a free port (loopback unless asked),
// the address read from `state_dir/metrics.addr` and the API token from
// `state_dir/api.token`.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, copyFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** How long a wait for something that takes a second or two may last on a loaded machine. */
export const PATIENCE_MS = 20000;

/** Calls `probe` every 50 ms until it returns a value other than undefined/false. */
export async function waitFor(what, probe, deadlineMs = PATIENCE_MS) {
  const start = Date.now();
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - start > deadlineMs) {
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts a daemon. `jobs`: { fileName: yamlText }; `examples`: also copy the repository's
 * jobs.d/*.yaml; `listen`: `metrics.listen` (a non-loopback address makes reads need the
 * token; `base` then still points at 127.0.0.1). Returns { base, token, dir,
 * api(method, path), log(), stop() }.
 */
export async function startDaemon({ jobs = {}, examples = true, listen = '127.0.0.1:0', extraConfig = '' } = {}) {
  const bin = resolve(REPO, process.env.SLOTCRON_BIN ?? 'target/debug/slotcron');
  const dir = mkdtempSync(join(tmpdir(), 'slotcron-e2e-'));
  const jobsDir = join(dir, 'jobs.d');
  mkdirSync(jobsDir);
  if (examples) {
    for (const file of readdirSync(join(REPO, 'jobs.d')).filter((f) => f.endsWith('.yaml'))) {
      copyFileSync(join(REPO, 'jobs.d', file), join(jobsDir, file));
    }
  }
  for (const [file, text] of Object.entries(jobs)) writeFileSync(join(jobsDir, file), text);
  writeFileSync(join(dir, 'slotcron.yaml'),
    `jobs_dir: jobs.d\nstate_dir: state\nenforcement: off\nkill_grace: 1s\nmetrics: { listen: "${listen}" }\n${extraConfig}`);

  const logFile = join(dir, 'daemon.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, ['--config', join(dir, 'slotcron.yaml'), 'daemon'], {
    cwd: dir,
    // The example backup job writes its archive to $TMPDIR: keep it in the sandbox.
    env: { ...process.env, TMPDIR: dir, SLOTCRON_LOG: 'info,slotcron=debug' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  child.on('error', (err) => { exited = { error: err.message }; });
  const log = () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } };

  const state = join(dir, 'state');
  let base;
  let token;
  try {
    await waitFor('the daemon to write metrics.addr and api.token', () => {
      if (exited) throw new Error(`the daemon exited: ${JSON.stringify(exited)}`);
      try {
        // A wildcard listener (0.0.0.0:port) is reached through loopback.
        const addr = readFileSync(join(state, 'metrics.addr'), 'utf8').trim().replace(/^0\.0\.0\.0:/, '127.0.0.1:');
        base = `http://${addr}/`;
        token = readFileSync(join(state, 'api.token'), 'utf8').trim();
        return token.length > 0;
      } catch {
        return false;
      }
    });
    await waitFor('GET /readyz to answer 200', async () => {
      if (exited) throw new Error(`the daemon exited: ${JSON.stringify(exited)}`);
      return (await fetch(`${base}readyz`)).ok;
    });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n--- daemon log (${bin}) ---\n${log()}`);
  }

  /** Calls the API as a client with the token; returns the parsed JSON (throws on non-2xx). */
  async function api(method, path) {
    const res = await fetch(`${base}api/v1${path}`, { method, headers: { Authorization: `Bearer ${token}` } });
    const body = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${body}`);
    return JSON.parse(body);
  }

  async function stop() {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await gone;
      clearTimeout(timer);
    }
    if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  }

  return { base, token, dir, api, log, stop, pid: child.pid };
}
