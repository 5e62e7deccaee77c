// Server-Sent Events read with `fetch`, so the stream can carry `Authorization: Bearer`
// (an `EventSource` cannot send headers, and the token never goes into a URL: URLs end up
// in logs). `SseParser` turns the stream's text into events as the SSE spec's "event
// stream interpretation" does; `openEventStream` connects, feeds the parser, and reconnects
// with backoff. No DOM here: node imports this module in tests/e2e/sse.mjs.
// docs/adr/0018-dashboard.md ("Live updates") has the reasons.

/** Reconnect delays: the first one (or the server's `retry:`), doubled per failure, capped. */
export const FIRST_DELAY_MS = 1000;
export const MAX_DELAY_MS = 30000;
/**
 * A stream silent this long is taken for dead (a half-open connection) and reopened: the
 * daemon sends `slots` every 3 s and a keep-alive comment every 15 s.
 */
export const IDLE_MS = 45000;

/**
 * The SSE parser. `push(text)` takes decoded text in chunks of any size (a line may span
 * chunks, CR LF may be split between them); each complete event goes to
 * `onEvent({ type, data, lastEventId })`, and a valid `retry:` to `onRetry(ms)`.
 */
export class SseParser {
  constructor(onEvent, onRetry = () => {}) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    this.buffer = '';
    this.skipLF = false; // the last chunk ended on CR: an LF next belongs to that line end
    this.type = '';
    this.data = '';
    this.hasData = false;
    this.lastEventId = '';
  }

  /** Feeds decoded text; dispatches every event completed by it. */
  push(text) {
    const all = this.buffer + (this.skipLF && text.startsWith('\n') ? text.slice(1) : text);
    this.skipLF = false;
    const lineEnd = /\r\n|\r|\n/g;
    let from = 0;
    for (let m = lineEnd.exec(all); m; m = lineEnd.exec(all)) {
      // A CR that ends the chunk may be the first half of a CR LF.
      if (m[0] === '\r' && lineEnd.lastIndex === all.length) this.skipLF = true;
      this.line(all.slice(from, m.index));
      from = lineEnd.lastIndex;
    }
    this.buffer = all.slice(from);
  }

  /** The stream ended: an event without its closing blank line is dropped (as the spec says). */
  end() {
    this.buffer = '';
    this.skipLF = false;
    this.type = '';
    this.data = '';
    this.hasData = false;
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment (the server's keep-alive)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event': this.type = value; break;
      case 'data':
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
        break;
      case 'id': if (!value.includes('\0')) this.lastEventId = value; break;
      case 'retry': if (/^[0-9]+$/.test(value)) this.onRetry(Number(value)); break;
      default: break; // unknown fields are ignored
    }
    return undefined;
  }

  dispatch() {
    const event = { type: this.type || 'message', data: this.data, lastEventId: this.lastEventId };
    const send = this.hasData;
    this.type = '';
    this.data = '';
    this.hasData = false;
    if (!send) return;
    // A handler's bug must not pass for a broken stream: report it as uncaught, go on.
    try { this.onEvent(event); } catch (err) { setTimeout(() => { throw err; }); }
  }
}

/**
 * Reads the event stream at `url` until `close()`, reconnecting after an end or an error.
 * Options:
 * - `headers()`: extra request headers, asked anew for each connection (the token);
 * - `onOpen()`: a 200 `text/event-stream` answer arrived;
 * - `onEvent({ type, data, lastEventId })`: one event;
 * - `onDown(reason)`: the stream is down: `'unauthorized'` (a 401: it then waits for
 *   `retryNow()`, called when a token is entered, rather than asking again and again),
 *   `'ended'`, `'http <status>'` or the network error's message;
 * - `fetch`, `firstDelayMs`, `maxDelayMs`, `idleMs`: for tests.
 * Returns `{ close(), retryNow() }`; `retryNow()` cuts a wait before reconnecting short.
 */
export function openEventStream(url, options) {
  const {
    headers = () => ({}), onOpen = () => {}, onEvent = () => {}, onDown = () => {},
    fetch: fetchImpl = globalThis.fetch, firstDelayMs = FIRST_DELAY_MS,
    maxDelayMs = MAX_DELAY_MS, idleMs = IDLE_MS,
  } = options;
  let closed = false;
  let controller = null;
  let wake = null; // resolves the current wait
  let baseDelay = firstDelayMs;
  let delay = baseDelay;

  const wait = (ms) => new Promise((resolve) => {
    const timer = ms == null ? null : setTimeout(resolve, ms);
    wake = () => { if (timer) clearTimeout(timer); resolve(); };
  }).finally(() => { wake = null; });

  /** One connection: resolves with why it went down. */
  async function connectOnce() {
    controller = new AbortController();
    const mine = controller;
    let idle = null;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => mine.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
    };
    try {
      arm();
      const sent = headers();
      const res = await fetchImpl(url, {
        headers: { ...sent, Accept: 'text/event-stream' }, cache: 'no-store', signal: mine.signal,
      });
      const type = res.headers.get('Content-Type') ?? '';
      if (!res.ok || !type.startsWith('text/event-stream') || !res.body) {
        res.body?.cancel().catch(() => {});
        // A token entered while this request was on its way: try again with it at once.
        if (res.status === 401) return JSON.stringify(sent) === JSON.stringify(headers()) ? 'unauthorized' : 'new token';
        return res.ok ? `not an event stream (${type || 'no type'})` : `http ${res.status}`;
      }
      delay = baseDelay;
      onOpen();
      const parser = new SseParser(onEvent, (ms) => { baseDelay = ms; delay = ms; });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        arm();
        parser.push(value);
      }
      parser.end();
      return 'ended';
    } catch (err) {
      return mine.signal.aborted && mine.signal.reason instanceof Error ? mine.signal.reason.message : String(err?.message ?? err);
    } finally {
      clearTimeout(idle);
      if (controller === mine) controller = null;
    }
  }

  (async () => {
    while (!closed) {
      const reason = await connectOnce();
      if (closed) break;
      if (reason === 'new token') continue;
      onDown(reason);
      if (reason === 'unauthorized') {
        await wait(null);
      } else {
        await wait(delay);
        delay = Math.min(delay * 2, maxDelayMs);
      }
    }
  })();

  return {
    close() {
      closed = true;
      controller?.abort(new Error('closed'));
      wake?.();
    },
    retryNow() {
      delay = baseDelay;
      wake?.();
    },
  };
}
