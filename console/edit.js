// Saving a feature from the console (its page or a table row): one governed write with the
// person's reason. The outcome is said plainly: saved with its commit, or waiting in a merge
// request when the branch is protected; an ontology violation is shown at the field it concerns
// and nothing is written.
import { api, el, pathURL, APIError } from './api.js';

/// A field's text as the JSON value of the kind it had (a number stays a number).
export function parse(text, kind) {
  if (kind === 'number') { const n = Number(text); return text.trim() === '' || Number.isNaN(n) ? text : n; }
  if (kind === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (kind === 'object') { try { return JSON.parse(text); } catch { return text; } }
  return text;
}

/// Writes `next` at `path`; says the outcome in `outcome`, and each violation in the element
/// `errorFor(name)` gives for its property (`geometry` for the position). True when saved.
export async function saveFeature(project, path, next, reason, outcome, errorFor) {
  const p = `/projects/${encodeURIComponent(project)}`;
  outcome.className = '';
  outcome.textContent = '';
  try {
    const answer = await api(`${p}/files/${pathURL(path)}`, {
      method: 'PUT',
      body: { content: JSON.stringify(next), message: reason || 'edited in the console' },
    });
    if (answer && answer.mergeRequest) {
      // A protected branch: the change was not applied; it waits for review.
      const number = answer.mergeRequest.number ?? answer.mergeRequest.request?.number ?? answer.mergeRequest;
      outcome.replaceChildren('The branch is protected: your change was not applied; it waits in ',
        el('a', { href: `#/p/${encodeURIComponent(project)}/mr/${number}`, text: `merge request !${number}` }), ' for review.');
      return false;
    }
    outcome.textContent = `Saved: commit ${(answer.commit || '').slice(0, 12)}`;
    return true;
  } catch (error) {
    if (!(error instanceof APIError)) throw error;
    for (const v of error.violations) {
      const name = (v.pointer || '').startsWith('/geometry') ? 'geometry' : (v.pointer || '').replace(/^\/properties\//, '').split('/')[0];
      errorFor(name)?.append(el('div', { text: v.message }));
    }
    outcome.textContent = error.code === 'branch_protected'
      ? 'main is protected: this change must go through a merge request (open one from a branch).'
      : `Not saved: ${error.message}`;
    outcome.className = 'error';
    return false;
  }
}
