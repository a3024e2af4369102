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
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}`, text: '← ' + project })),
    el('h1', { text: 'Agent runs' }),
    el('ul', { id: 'runs' }, runs.slice().reverse().map((r) => el('li', {},
      el('a', { href: `#/p/${encodeURIComponent(project)}/runs/${r.id}`, text: r.id }),
      ` ${r.agent}${r.onBehalfOf ? ` for ${r.onBehalfOf}` : ''}, ${r.status}, ${r.calls.length} call(s), started ${r.started}`))));
  return follow(session.org, project, (event) => { if (event.run) renderRuns(main, project).catch((e) => say(e.message)); });
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
