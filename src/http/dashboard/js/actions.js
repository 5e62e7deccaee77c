// Toasts and the buttons that change something (run now, enable, disable, acknowledge):
// each POSTs, shows the answer as a toast and asks the router to reload the view. The
// router registers that reload with `onActionDone` (app.js imports this module, not the
// other way round, so the module graph has no cycle).

import { $, el } from './dom.js';
import { post } from './api.js';

let afterAction = () => {};

/** Sets what runs after an action succeeded (app.js: reload the current view). */
export function onActionDone(callback) {
  afterAction = callback;
}

/** A message at the corner for 5 s (9 s for `bad`). */
export function toast(message, kind = 'ok') {
  const node = el('div', { class: `toast ${kind}`, text: message });
  $('#toasts').append(node);
  setTimeout(() => node.remove(), kind === 'bad' ? 9000 : 5000);
}

/** A button that POSTs `path`, shows the answer's message and refreshes the view. */
export function actionButton(label, path, { ariaLabel, primary = false } = {}) {
  const button = el('button', { type: 'button', class: primary ? 'primary' : null, 'aria-label': ariaLabel, text: label });
  button.addEventListener('click', async (event) => {
    event.stopPropagation();
    button.disabled = true;
    try {
      const answer = await post(path);
      toast(answer.message ?? `${label}: done`);
      afterAction({ type: 'action' });
    } catch (err) {
      toast(`${label} failed: ${err.message}`, 'bad');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** A job's "Run now" and "Enable"/"Disable" buttons. */
export function jobActions(job) {
  const name = encodeURIComponent(job.name);
  const enabled = job.effective_enabled ?? job.enabled;
  return [
    actionButton('Run now', `/jobs/${name}/run`, { ariaLabel: `Run ${job.name} now` }),
    enabled
      ? actionButton('Disable', `/jobs/${name}/disable`, { ariaLabel: `Disable ${job.name}` })
      : actionButton('Enable', `/jobs/${name}/enable`, { ariaLabel: `Enable ${job.name}` }),
  ];
}
