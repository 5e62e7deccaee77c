// DOM helpers: `el`/`svg` build elements from props and children, `fill` replaces a node's
// children, `badge` draws a status word in its tone, `jobLink` links to a job's page.
//
// Safety rule: strings become text nodes or attribute values here, never markup, so every
// view that builds through these helpers shows server strings as text (docs/adr/0018).

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The first element matching `selector`. */
export const $ = (selector) => document.querySelector(selector);

/** An element: `props` are attributes, plus `class`, `text` (textContent) and `on<event>`. */
export function el(tag, props = {}, ...children) {
  return assemble(document.createElement(tag), props, children);
}

/** An SVG element, same rules as `el`. */
export function svg(tag, props = {}, ...children) {
  return assemble(document.createElementNS(SVG_NS, tag), props, children);
}

/** Sets `props` on an existing node and appends `children`, as `el` does. */
export function assemble(node, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    // Strings become text nodes: append() never parses HTML.
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** `root.replaceChildren` minus the null/false entries (which it would print as text). */
export const fill = (root, ...children) => root.replaceChildren(...children.flat().filter((c) => c != null && c !== false));

/** A word from the server made safe for a class name (`oom_killed` stays `oom_killed`). */
export const classWord = (word) => String(word ?? 'unknown').toLowerCase().replace(/[^a-z0-9_-]/g, '_');

const TONES = {
  ok: ['success', 'healthy', 'ok', 'stable', 'idle', 'resolved'],
  warn: ['warning', 'overdue', 'timeout', 'killed', 'skipped', 'requeued', 'frozen', 'throttled', 'unstable', 'queued',
    'acknowledged', 'tripped', 'disabled'],
  bad: ['failed', 'critical', 'failing', 'oom_killed', 'degraded', 'error', 'broken', 'lost', 'open'],
  info: ['running', 'info'],
};

/** The `tone-*` class of a status word, or '' for a word with no tone. */
export function tone(word) {
  for (const [name, words] of Object.entries(TONES)) if (words.includes(word)) return `tone-${name}`;
  return '';
}

/** A status badge: `oom_killed` has its own loud style. */
export function badge(word, label) {
  if (word == null) return el('span', { class: 'muted', text: '—' });
  const text = label ?? String(word).replace(/_/g, ' ');
  return el('span', { class: `badge status-${classWord(word)} ${tone(word)}`, text });
}

const jobHref = (name) => `#/jobs/${encodeURIComponent(name)}`;

/** A link to a job's page. */
export const jobLink = (name) => el('a', { href: jobHref(name), text: name });
