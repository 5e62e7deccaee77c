// Unit tests of the dashboard's SSE reader (src/http/dashboard/js/events.js), in node
// without a browser: the parser against the spec's line rules, and the fetch reader against
// a small node HTTP server on loopback (reconnect, `retry:`, the 401 wait, headers).
// Run by tests/e2e/run, or alone: node --test tests/e2e/sse.mjs

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import { SseParser, openEventStream } from '../../src/http/dashboard/js/events.js';
import { waitFor } from './daemon.mjs';

/** Feeds `chunks` to a parser; returns the events and `retry:` values it produced. */
function parse(...chunks) {
  const events = [];
  const retries = [];
  const parser = new SseParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const chunk of chunks) parser.push(chunk);
  return { events, retries, parser };
}

describe('SseParser', () => {
  it('dispatches on a blank line, with the event type and data', () => {
    const { events } = parse('event: run_started\ndata: {"id":1}\n\n');
    assert.deepEqual(events, [{ type: 'run_started', data: '{"id":1}', lastEventId: '' }]);
  });

  it('joins multi-line data with \\n and defaults the type to "message"', () => {
    const { events } = parse('data: one\ndata:two\ndata\ndata:  three\n\n');
    assert.deepEqual(events.map((e) => [e.type, e.data]), [['message', 'one\ntwo\n\n three']]);
  });

  it('ignores comments, unknown fields and blank lines without data', () => {
    const { events } = parse(':keep-alive\n\nfoo: bar\n\nevent: x\n\ndata: y\n\n');
    // The "event: x" block had no data: nothing dispatched, and its type does not leak on.
    assert.deepEqual(events.map((e) => [e.type, e.data]), [['message', 'y']]);
  });

  it('takes CR LF, CR and LF as line ends, also split across chunks', () => {
    const { events } = parse('event: a\r', '\ndata: 1\r', '\r', 'data: 2\rdata: 3\n', '\n');
    assert.deepEqual(events.map((e) => [e.type, e.data]), [['a', '1'], ['message', '2\n3']]);
  });

  it('reassembles a line split anywhere', () => {
    const { events } = parse('ev', 'ent: slo', 'ts\nda', 'ta: {"name":"é', '"}\n', '\n');
    assert.deepEqual(events.map((e) => [e.type, e.data]), [['slots', '{"name":"é"}']]);
  });

  it('reports a numeric retry only, and keeps the last id', () => {
    const { events, retries } = parse('retry: 2500\nretry: 1s\nid: 7\ndata: a\n\ndata: b\n\n');
    assert.deepEqual(retries, [2500]);
    assert.deepEqual(events.map((e) => e.lastEventId), ['7', '7']);
  });

  it('drops an event the stream ended before closing', () => {
    const { events, parser } = parse('data: whole\n\ndata: half');
    parser.end();
    parser.push('\n\n');
    assert.deepEqual(events.map((e) => e.data), ['whole']);
  });
});

describe('openEventStream against a node server', () => {
  const requests = [];
  let behave = () => {};
  const server = createServer((req, res) => {
    requests.push({ url: req.url, authorization: req.headers.authorization, accept: req.headers.accept });
    behave(req, res, requests.length);
  });
  const listening = new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = async () => { await listening; return `http://127.0.0.1:${server.address().port}/events`; };
  after(() => { server.closeAllConnections(); server.close(); });

  it('reads events, reconnects after the end (after `retry:`), and sends the headers', async () => {
    requests.length = 0;
    behave = (req, res, n) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      // The first answer sets retry to 50 ms and ends; the second stays open.
      if (n === 1) res.end('retry: 50\n: hello\nevent: slots\ndata: {"n":1}\n\n');
      else {
        // A two-byte character split between writes: TextDecoderStream joins it.
        const bytes = Buffer.from('event: run_started\ndata: {"n":"é"}\n\n');
        const cut = bytes.indexOf(0xa9);
        res.write(bytes.subarray(0, cut));
        setTimeout(() => res.write(bytes.subarray(cut)), 30);
      }
    };
    const seen = [];
    const downs = [];
    let opens = 0;
    const stream = openEventStream(await url(), {
      headers: () => ({ Authorization: 'Bearer t0k' }),
      onOpen: () => { opens += 1; },
      onDown: (why) => downs.push(why),
      onEvent: (e) => seen.push(`${e.type} ${e.data}`),
      firstDelayMs: 60000, // only the server's retry: makes the reconnect quick
    });
    await waitFor('two events', () => seen.length >= 2, 5000);
    stream.close();
    assert.deepEqual(seen, ['slots {"n":1}', 'run_started {"n":"é"}']);
    assert.equal(opens, 2);
    assert.deepEqual(downs, ['ended']);
    assert.deepEqual(requests.map((r) => [r.authorization, r.accept]), [['Bearer t0k', 'text/event-stream'], ['Bearer t0k', 'text/event-stream']]);
  });

  it('after a 401 waits for retryNow() and then connects with the new header', async () => {
    requests.length = 0;
    behave = (req, res) => {
      if (req.headers.authorization !== 'Bearer good') { res.writeHead(401); res.end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: in\n\n');
    };
    let token = null;
    const downs = [];
    const seen = [];
    const stream = openEventStream(await url(), {
      headers: () => (token ? { Authorization: `Bearer ${token}` } : {}),
      onDown: (why) => downs.push(why),
      onEvent: (e) => seen.push(e.data),
      firstDelayMs: 10,
    });
    await waitFor('the 401', () => downs.length === 1, 5000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(requests.length, 1, 'no retry without a new token, even with a 10 ms delay');
    assert.deepEqual(downs, ['unauthorized']);
    token = 'good';
    stream.retryNow();
    await waitFor('the event', () => seen.length === 1, 5000);
    stream.close();
    assert.deepEqual(requests.map((r) => r.authorization), [undefined, 'Bearer good']);
  });

  it('backs off after errors and reopens a stream that went silent', async () => {
    requests.length = 0;
    behave = (req, res, n) => {
      if (n <= 2) { res.writeHead(503); res.end(); return; }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`data: ${n}\n\n`); // then nothing: the idle watchdog reopens it
    };
    const downs = [];
    const seen = [];
    const stream = openEventStream(await url(), {
      onDown: (why) => downs.push(why), onEvent: (e) => seen.push(e.data),
      firstDelayMs: 20, maxDelayMs: 40, idleMs: 300,
    });
    await waitFor('two streams', () => seen.length >= 2, 5000);
    stream.close();
    assert.deepEqual(downs.slice(0, 3), ['http 503', 'http 503', 'no data for 0.3 s']);
    assert.deepEqual(seen.slice(0, 2), ['3', '4']);
  });
});
