// The governance pages: the approval queue (each request's exact change, readable), agent runs
// (each call in order with its arguments, decision, reads and commits; replay and rollback), and
// the audit log with its filters. Every action is an API call the person's grants must allow.
import { api, el, say, session } from './api.js';
import { follow } from './live.js';

/// base64 content as text (JSON pretty-printed), so a reviewer reads the change, not its encoding.
function readable(base64) {
  if (!base64) return '';
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const text = new TextDecoder().decode(bytes);
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

export async function renderApprovals(main) {
  const { approvals } = await api('/approvals');
  const list = el('ul', { id: 'approvals' });
  for (const a of approvals) {
    const rationale = el('input', { 'aria-label': `rationale for ${a.id}`, class: 'rationale' });
    const outcome = el('span', { role: 'status' });
    const decide = (verdict) => el('button', {
      type: 'button', 'data-decide': verdict, text: verdict,
      onclick: async () => {
        try {
          await api(`/approvals/${encodeURIComponent(a.id)}/decisions`, { method: 'POST', body: { verdict, rationale: rationale.value || verdict } });
          outcome.textContent = ` ${verdict}d`;
        } catch (error) {
          outcome.textContent = ` refused: ${error.message}`;
        }
      },
    });
    list.append(el('li', { 'data-approval': a.id },
      el('h2', { text: `${a.operation}: ${a.summary || a.action}` }),
      el('p', { class: 'muted', text: `${a.state}; asked by ${a.requester}${a.onBehalfOf ? ` for ${a.onBehalfOf}` : ''} at ${a.created}${a.project ? ` in ${a.project}` : ''}${a.branch ? ` on ${a.branch}` : ''}; ${a.reason || ''}` }),
      (a.changes || []).map((c) => el('details', { open: true }, el('summary', { text: `${c.op} ${c.path}` }), el('pre', { class: 'change', text: readable(c.contentBase64) }))),
      a.detail ? el('pre', { text: JSON.stringify(a.detail, null, 2) }) : null,
      a.state === 'pending' ? el('p', {}, rationale, ' ', decide('approve'), ' ', decide('reject'), outcome) : null));
  }
  main.replaceChildren(el('h1', { text: 'Approvals' }), approvals.length ? list : el('p', { text: 'Nothing waits for approval.' }));
}

export async function renderRuns(main, project) {
  const p = `/projects/${encodeURIComponent(project)}`;
  const { runs } = await api(`${p}/agent-runs?limit=100`);
  // Workflow runs: each workflow's newest runs (a person may read runs without the definitions'
  // folder; then the section says so).
  let workflows = [];
  let unavailable = null;
  try {
    workflows = (await api(`${p}/workflows?limit=100`)).workflows;
    await Promise.all(workflows.map(async (w) => { w.runs = (await api(`${p}/workflows/${encodeURIComponent(w.name)}/runs?limit=20`)).runs; }));
  } catch (error) { unavailable = error.message; }
  const flowRuns = workflows.flatMap((w) => w.runs.map((r) => ({ ...r, state: w.state })))
    .sort((a, b) => (a.created < b.created ? 1 : -1));
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}`, text: '← ' + project })),
    el('h1', { text: 'Runs' }),
    el('h2', { text: 'Agent sessions' }),
    el('ul', { id: 'runs' }, runs.slice().reverse().map((r) => el('li', {},
      el('a', { href: `#/p/${encodeURIComponent(project)}/runs/${r.id}`, text: r.id }),
      ` ${r.agent}${r.onBehalfOf ? ` for ${r.onBehalfOf}` : ''}${r.workflow ? ` (workflow ${r.workflow})` : ''}, ${r.status}, ${r.calls.length} call(s), started ${r.started}`))),
    el('h2', { text: 'Workflow runs' }),
    unavailable ? el('p', { class: 'muted', text: `Workflows are not available to you: ${unavailable}` }) : null,
    el('ul', { id: 'workflows' }, workflows.map((w) => el('li', { 'data-workflow': w.name },
      el('strong', { text: w.name }), ` ${w.state.enabled ? `enabled by ${w.state.enabledBy || '?'}` : 'disabled'}${w.state.paused ? ', paused' : ''}`))),
    el('ul', { id: 'workflow-runs' }, flowRuns.map((r) => el('li', {},
      el('a', { href: `#/p/${encodeURIComponent(project)}/wf/${encodeURIComponent(r.workflow)}/${r.id}`, text: `${r.workflow} ${r.id}` }),
      ` ${r.status}${r.outcome ? ` (${r.outcome})` : ''}, ${r.trigger.kind}${r.trigger.by ? ` by ${r.trigger.by}` : ''}, ${r.created}${r.failure ? `: ${r.failure}` : ''}`))));
  return follow(session.org, project, (event) => {
    if (event.run || (event.action || '').startsWith('workflow.')) renderRuns(main, project).catch((e) => say(e.message));
  });
}

export async function renderWorkflowRun(main, project, workflow, id) {
  const p = `/projects/${encodeURIComponent(project)}`;
  const url = `${p}/workflows/${encodeURIComponent(workflow)}/runs/${id}`;
  const run = await api(url);
  const commitLink = (c) => el('a', { href: `#/p/${encodeURIComponent(project)}/c/${c}`, text: c.slice(0, 12) });
  const outcome = el('p', { id: 'workflow-outcome', role: 'status' });
  const live = ['fired', 'running', 'paused'].includes(run.status);
  const cancel = live ? el('button', {
    type: 'button', class: 'secondary', id: 'cancel-run', text: 'Cancel this run',
    onclick: async () => {
      try { const after = await api(`${url}/cancel`, { method: 'POST', body: {} }); outcome.textContent = `Now ${after.status}.`; } catch (error) { outcome.textContent = `Refused: ${error.message}`; }
    },
  }) : null;
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}/runs`, text: '← runs' })),
    el('h1', { text: `Workflow ${workflow}: run ${run.id}` }),
    el('dl', { class: 'meta', id: 'workflow-meta' },
      el('dt', { text: 'status' }), el('dd', { id: 'workflow-status', text: run.status + (run.outcome ? ` (${run.outcome})` : '') }),
      el('dt', { text: 'trigger' }), el('dd', { text: `${run.trigger.kind}${run.trigger.by ? ` by ${run.trigger.by}` : ''}${run.trigger.paths?.length ? `: ${run.trigger.paths.join(', ')}` : ''}` }),
      el('dt', { text: 'inputs' }), el('dd', {}, el('pre', { text: JSON.stringify(run.inputs, null, 1) })),
      el('dt', { text: 'created' }), el('dd', { text: run.created + (run.finished ? `, finished ${run.finished}` : '') }),
      run.run ? el('dt', { text: 'engine run' }) : null,
      run.run ? el('dd', {}, el('a', { id: 'engine-run', href: `#/p/${encodeURIComponent(project)}/runs/${run.run}`, text: run.run })) : null,
      run.mergeRequest ? el('dt', { text: 'merge request' }) : null,
      run.mergeRequest ? el('dd', {}, el('a', { href: `#/p/${encodeURIComponent(project)}/mr/${run.mergeRequest}`, text: `!${run.mergeRequest}` })) : null,
      run.mergeCommit ? el('dt', { text: 'merged as' }) : null,
      run.mergeCommit ? el('dd', {}, commitLink(run.mergeCommit)) : null,
      run.failure ? el('dt', { text: 'failure' }) : null,
      run.failure ? el('dd', { class: 'error', text: run.failure }) : null),
    el('h2', { text: 'Steps' }),
    el('div', { class: 'tablewrap' }, el('table', { id: 'steps' },
      el('thead', {}, el('tr', {}, ['step', 'kind', 'outcome', 'attempts', 'calls', 'commits', 'error'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, run.steps.map((s) => el('tr', { 'data-step': s.id },
        el('td', { text: s.id }), el('td', { text: s.kind }), el('td', { text: s.outcome }), el('td', { class: 'num', text: String(s.attempts) }),
        el('td', { text: s.calls.join(', ') }), el('td', {}, ...s.commits.flatMap((c) => [commitLink(c), ' '])), el('td', { text: s.error || '' })))))),
    cancel, outcome);
}

export async function renderRun(main, project, id) {
  const p = `/projects/${encodeURIComponent(project)}`;
  const run = await api(`${p}/agent-runs/${id}`);
  const report = el('pre', { id: 'run-report' });
  const act = (label, path) => el('button', {
    type: 'button', class: 'secondary', text: label, 'data-run-action': path,
    onclick: async () => {
      try { report.textContent = JSON.stringify(await api(`${p}/agent-runs/${id}/${path}`, { method: 'POST', body: {} }), null, 2); } catch (error) { report.textContent = `refused: ${error.message}`; }
    },
  });
  const rows = run.calls.map((c) => el('tr', {},
    el('td', { text: String(c.seq) }), el('td', { text: c.tool }), el('td', {}, el('pre', { text: JSON.stringify(c.arguments, null, 1) })),
    el('td', { text: c.decision }), el('td', { text: (c.reads || []).map((r) => r.path).join(', ') }),
    el('td', { text: (c.commits || []).map((x) => x.slice(0, 12)).join(', ') }), el('td', { text: c.error || c.summary || '' })));
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}/runs`, text: '← runs' })),
    el('h1', { text: `Run ${run.id}` }),
    el('p', { class: 'muted', text: `${run.agent}${run.onBehalfOf ? ` for ${run.onBehalfOf}` : ''} on ${run.branch} (target ${run.target}), ${run.status}; started ${run.started}${run.finished ? `, finished ${run.finished}` : ''}${run.mergeRequest ? `; merge request !${run.mergeRequest}` : ''}` }),
    el('div', { class: 'tablewrap' }, el('table', { id: 'calls' },
      el('thead', {}, el('tr', {}, ['#', 'tool', 'arguments', 'decision', 'read', 'commits', 'outcome'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, rows))),
    el('p', {}, act('Replay', 'replay'), ' ', act('Roll back', 'rollback')), report);
}

export async function renderAudit(main) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const fields = ['actor', 'action', 'outcome', 'path', 'since', 'until'].map((name) => el('label', {}, `${name} `, el('input', { name, value: params.get(name) || '' })));
  const form = el('form', { id: 'audit-filter' }, fields, el('button', { type: 'submit', text: 'Filter' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    for (const input of form.querySelectorAll('input')) if (input.value) q.set(input.name, input.value);
    location.hash = `#/audit?${q}`;
  });
  const q = new URLSearchParams();
  for (const [k, v] of params) if (v) q.set(k, v);
  q.set('limit', '200');
  const page = await api(`/audit?${q}`);
  const records = page.entries.map((e) => e.record);
  main.replaceChildren(el('h1', { text: 'Audit' }), form,
    el('div', { class: 'tablewrap' }, el('table', { id: 'audit' },
      el('thead', {}, el('tr', {}, ['time', 'actor', 'action', 'outcome', 'where', 'why'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, records.map((r) => el('tr', {}, el('td', { text: r.time }), el('td', { text: r.actor + (r.onBehalfOf ? ` for ${r.onBehalfOf}` : '') }),
        el('td', { text: r.action }), el('td', { text: r.outcome + (r.rule ? ` (${r.rule})` : '') }),
        el('td', { text: [r.project, r.branch, (r.paths || []).slice(0, 3).join(', ')].filter(Boolean).join(' / ') }),
        el('td', { text: r.reason || r.error || '' })))))));
}

/// Who may do what, now or as it was at an instant: the roles and grants then, and the access
/// evaluation of a question (may SUBJECT do AUTHORITY on a project, branch or path, at that time).
export async function renderAccess(main) {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const at = params.get('at') || '';
  const snapshot = await api('/access' + (at ? `?at=${encodeURIComponent(at)}` : ''));
  const when = el('input', { id: 'access-at', name: 'at', value: at, placeholder: 'now, or 2026-12-01T12:00:00Z' });
  const form = el('form', { id: 'access-form' }, el('label', { for: 'access-at', text: 'As of ' }), when, ' ', el('button', { type: 'submit', text: 'Show' }));
  form.addEventListener('submit', (event) => { event.preventDefault(); location.hash = `#/access?at=${encodeURIComponent(when.value.trim())}`; });
  const subject = el('input', { id: 'ask-subject', value: session.current.subject });
  const authority = el('select', { id: 'ask-authority' }, ['read', 'write', 'delete', 'run', 'solve', 'approve', 'share', 'configure'].map((a) => el('option', { value: a, text: a })));
  const project = el('input', { id: 'ask-project', placeholder: 'project' });
  const path = el('input', { id: 'ask-path', placeholder: 'path (optional)' });
  const answer = el('p', { id: 'ask-answer', role: 'status' });
  const ask = el('form', { id: 'ask' },
    el('label', { for: 'ask-subject', text: 'May ' }), subject, ' ', el('label', { for: 'ask-authority', text: 'do ' }), authority, ' ',
    el('label', { for: 'ask-project', text: 'on ' }), project, ' ', el('label', { for: 'ask-path', text: 'at ' }), path, ' ',
    el('button', { type: 'submit', text: 'Ask' }), answer);
  ask.addEventListener('submit', async (event) => {
    event.preventDefault();
    const resource = path.value.trim()
      ? { type: 'path', id: path.value.trim(), properties: { project: project.value.trim() } }
      : { type: 'project', id: project.value.trim() };
    try {
      const r = await api('/access/v1/evaluation', {
        method: 'POST',
        body: { subject: { type: 'subject', id: subject.value.trim() }, action: { name: authority.value }, resource, context: at ? { time: at } : undefined },
      });
      answer.textContent = `${r.decision ? 'yes' : 'no'}: ${r.context.reason} (rule ${r.context.rule})`;
    } catch (error) {
      answer.textContent = `cannot ask: ${error.message}`;
    }
  });
  const target = (t) => [t.kind, t.project, t.branch, t.path].filter(Boolean).join(' ');
  main.replaceChildren(el('h1', { text: 'Access' }), form,
    el('p', { class: 'muted', text: `as of ${snapshot.time}, configuration ${snapshot.configCommit.slice(0, 12)}` }),
    el('h2', { text: 'Grants' }),
    el('div', { class: 'tablewrap' }, el('table', { id: 'grants' },
      el('thead', {}, el('tr', {}, ['subject', 'role', 'on', 'effect'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, snapshot.grants.map((g) => el('tr', {}, el('td', { text: g.subject }), el('td', { text: g.role }),
        el('td', { text: target(g.target || {}) }), el('td', { text: g.effect + (g.shadow ? ' (shadow)' : '') })))))),
    el('h2', { text: 'Roles' }),
    el('ul', { id: 'roles' }, snapshot.roles.map((r) => el('li', {}, el('strong', { text: r.name }), `: ${r.authorities.join(', ')}`))),
    el('h2', { text: 'Ask' }), ask);
}
