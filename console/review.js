// Merge requests: the inbox, and a request's page with its change on the map (added, removed,
// moved: before and after), the table of changed values, the reviews, and the verdict bound to
// the head shown: if a commit arrives on the source while the page is open, the page says so and
// the server refuses an approval of the old head.
import { api, el, say, session, APIError } from './api.js';
import { follow } from './live.js';
import { format } from './project.js';
import { readChanges, changeTable, changeMap } from './changes.js';

export async function renderInbox(main, project) {
  const p = `/projects/${encodeURIComponent(project)}`;
  const page = await api(`${p}/merge-requests?state=open&limit=100`);
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}`, text: '← ' + project })),
    el('h1', { text: 'Merge requests' }),
    page.mergeRequests.length === 0 ? el('p', { id: 'inbox-empty', text: 'No open merge request.' }) : null,
    el('ul', { id: 'inbox' }, page.mergeRequests.map((v) => el('li', {},
      el('a', { href: `#/p/${encodeURIComponent(project)}/mr/${v.request.number}`, text: `!${v.request.number} ${v.request.title}` }),
      el('span', { class: 'muted', text: ` ${v.request.source} → ${v.request.target} by ${v.request.author}, ${v.status}, ${v.approvals}/${v.requiredApprovals} approvals` })))));
  const stop = follow(session.org, project, (event) => {
    if (event.action?.startsWith('merge_request.')) renderInbox(main, project).catch((e) => say(e.message));
  });
  return stop;
}

/// Whether the signed-in person may do `authority` on the branch: the AuthZEN evaluation of the
/// caller itself (its own key's scope included), the decision the API will enforce.
async function may(project, branch, authority) {
  const answer = await api('/access/v1/evaluation', {
    method: 'POST',
    body: {
      subject: { type: 'subject', id: session.current.subject },
      action: { name: authority },
      resource: { type: 'branch', id: branch, properties: { project } },
    },
  });
  return { allowed: answer.decision, reason: answer.context?.reason || '' };
}

export async function renderMergeRequest(main, project, number) {
  const p = `/projects/${encodeURIComponent(project)}`;
  const view = await api(`${p}/merge-requests/${number}`);
  const request = view.request;
  const diff = await api(`${p}/merge-requests/${number}/diff?limit=1000`);
  const shownHead = diff.head;
  const changes = await readChanges(p, diff.entities, diff.base, diff.head);
  const mapNode = el('div', { id: 'map', role: 'region', 'aria-label': 'The change on the map' });
  const table = changeTable(project, changes);
  const banner = el('p', { id: 'stale', class: 'error', role: 'alert', hidden: true });
  // The ontology's verdict on what would be merged (the source head), and the conflicts kept
  // from the last merge attempt with how they were resolved.
  let verdict = null;
  try {
    const report = await api(`${p}/violations?ref=${shownHead}&limit=100`);
    verdict = el('p', { id: 'verdict', class: report.violations.length ? 'error' : 'muted',
      text: report.violations.length
        ? `The ontology refuses the result: ${report.violations.length} violation(s), such as ${report.violations[0].path} ${report.violations[0].pointer}: ${report.violations[0].message}`
        : 'The ontology accepts the result: no violation.' });
  } catch (error) {
    verdict = el('p', { id: 'verdict', class: 'muted', text: `The ontology's verdict is not available: ${error.message}` });
  }
  const conflicts = request.attempt?.conflicts?.length
    ? el('section', { id: 'conflicts' }, el('h2', { text: 'Conflicts' }), el('ul', {}, request.attempt.conflicts.map((c) => el('li', {},
      `${c.path}${c.pointer ? ' ' + c.pointer : ''}: ${request.resolutions?.[c.path] ? 'resolved: ' + format(request.resolutions[c.path]) : 'unresolved'}`))))
    : null;
  const outcome = el('p', { id: 'review-outcome', role: 'status' });
  const rationale = el('textarea', { id: 'rationale', rows: '2', required: true });
  const actions = el('div', { id: 'actions' });
  const approve = await may(project, request.target, 'approve');
  const merge = await may(project, request.target, 'write');
  if (request.state === 'open' && approve.allowed) {
    actions.append(el('label', { for: 'rationale', text: 'Rationale ' }), rationale, ' ',
      ...['approve', 'request_changes', 'reject'].map((verdict) => el('button', {
        type: 'button', id: 'verdict-' + verdict, text: verdict.replace('_', ' '),
        onclick: async () => {
          try {
            await api(`${p}/merge-requests/${number}/reviews`, { method: 'POST', body: { verdict, rationale: rationale.value, head: shownHead } });
            outcome.textContent = `${verdict.replace('_', ' ')}: recorded at ${shownHead.slice(0, 12)}`;
          } catch (error) {
            outcome.textContent = error instanceof APIError ? `Refused: ${error.message}` : String(error);
            outcome.className = 'error';
          }
        },
      })));
  } else if (request.state === 'open') {
    actions.append(el('p', { id: 'no-approve', class: 'muted', text: `You may not review this request: ${approve.reason}` }));
  }
  if (request.state === 'open' && merge.allowed) {
    actions.append(' ', el('button', {
      type: 'button', id: 'merge', class: 'secondary', text: 'Merge',
      onclick: async () => {
        try {
          const answer = await api(`${p}/merge-requests/${number}/merge`, { method: 'POST', body: {} });
          outcome.textContent = answer.status === 'merged' ? 'Merged.' : `Not merged: ${answer.status}`;
        } catch (error) {
          outcome.textContent = error instanceof APIError ? `Not merged: ${error.message}` : String(error);
          outcome.className = 'error';
        }
      },
    }));
  }
  // The agent run behind the request: each call with its reason, as the agent gave it.
  let run = null;
  const runID = request.source.startsWith('agent-runs/') ? request.source.slice('agent-runs/'.length) : null;
  if (runID) {
    try { run = await api(`${p}/agent-runs/${encodeURIComponent(runID)}`); } catch (error) { run = null; }
  }
  const calls = run ? el('section', { id: 'run-calls' },
    el('h2', {}, 'The agent run behind it: ', el('a', { href: `#/p/${encodeURIComponent(project)}/runs/${run.id}`, text: run.id })),
    el('ol', {}, run.calls.map((c) => el('li', {}, el('strong', { text: c.tool }), ` ${c.arguments?.path ?? ''} `,
      c.arguments?.reason ? el('q', { text: c.arguments.reason }) : null, ` (${c.decision})`)))) : null;
  const reviews = el('ul', { id: 'reviews' }, request.reviews.map((r) => el('li', {},
    el('strong', { text: r.reviewer }), ` ${r.verdict} at ${r.commit.slice(0, 12)}: ${r.rationale}`)));

  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}/mr`, text: '← merge requests' })),
    el('h1', { text: `!${request.number} ${request.title}` }),
    el('p', { class: 'muted', text: `${request.source} → ${request.target}, by ${request.author}; ${view.status}, ${view.approvals}/${view.requiredApprovals} approvals; head ${shownHead.slice(0, 12)}` }),
    request.description ? el('p', { id: 'description', text: request.description }) : null,
    banner, verdict, conflicts,
    el('div', { class: 'project' }, el('section', { 'aria-label': 'The change on the map' }, mapNode),
      el('section', { 'aria-label': 'Changed values' }, el('div', { class: 'tablewrap' }, table))),
    calls, el('h2', { text: 'Reviews' }), reviews, actions, outcome);

  const map = changeMap(mapNode, changes);

  const stop = follow(session.org, project, (event) => {
    if (event.branch === request.source && event.commit && event.commit !== shownHead) {
      banner.hidden = false;
      banner.textContent = `A new commit (${event.commit.slice(0, 12)} by ${event.actor}) arrived on ${request.source} after this page opened: an approval of what is shown here will be refused. Reload to review the new head.`;
    }
  });
  return () => { stop(); map.remove(); };
}
