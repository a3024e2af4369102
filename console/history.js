// History: a branch's timeline (who, agent or person, when, why), a commit's page (its reasons,
// its run, its approvals, and its change on the map and in the table), and the branches.
import { api, el, say, session } from './api.js';
import { follow } from './live.js';
import { readChanges, changeTable, changeMap } from './changes.js';

const perPage = 50;
/// Files of a commit shown at once (each read before and after); more on request.
const filesPerPage = 200;

const projectPath = (project) => `/projects/${encodeURIComponent(project)}`;
const commitLink = (project, id, text) => el('a', { href: `#/p/${encodeURIComponent(project)}/c/${id}`, text: text || id.slice(0, 12) });
const historyLink = (project, branch, text) =>
  el('a', { href: `#/p/${encodeURIComponent(project)}/history?branch=${encodeURIComponent(branch)}`, text: text || branch });

/// Who made a commit, as a person reads it: the agent and the person it acted for, or the person.
function who(c) {
  const kind = c.actorKind === 'user' ? 'person' : c.actorKind;
  return `${c.author} (${kind})` + (c.onBehalfOf ? ` for ${c.onBehalfOf}` : '');
}

export async function renderHistory(main, project) {
  const p = projectPath(project);
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const branch = params.get('branch') || 'main';
  const { branches } = await api(`${p}/branches`);
  const choose = el('select', { id: 'branch' }, branches.map((b) => el('option', { value: b.name, text: b.name, selected: b.name === branch })));
  choose.addEventListener('change', () => { location.hash = `#/p/${encodeURIComponent(project)}/history?branch=${encodeURIComponent(choose.value)}`; });
  const body = el('tbody');
  const more = el('button', { type: 'button', class: 'secondary', id: 'older', hidden: true, text: 'Older commits' });
  let cursor = null;
  async function page() {
    const answer = await api(`${p}/commits?ref=${encodeURIComponent(branch)}&limit=${perPage}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
    for (const { commit: c } of answer.commits) body.append(row(c));
    cursor = answer.next || null;
    more.hidden = !cursor;
  }
  const row = (c) => el('tr', { 'data-commit': c.id },
    el('td', { text: c.time }), el('td', { text: who(c) }), el('td', {}, commitLink(project, c.id)),
    el('td', { text: c.message.split('\n')[0] }),
    el('td', {}, c.runID ? el('a', { href: `#/p/${encodeURIComponent(project)}/runs/${encodeURIComponent(c.runID)}`, text: c.runID }) : ''));
  more.addEventListener('click', () => page().catch((e) => say(e.message)));
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}`, text: '← ' + project }), ' ',
      el('a', { href: `#/p/${encodeURIComponent(project)}/branches`, id: 'to-branches', text: 'Branches' })),
    el('h1', { text: `History of ${branch}` }),
    el('p', {}, el('label', { for: 'branch', text: 'Branch ' }), choose),
    el('div', { class: 'tablewrap' }, el('table', { id: 'timeline' },
      el('thead', {}, el('tr', {}, ['when', 'who', 'commit', 'why', 'run'].map((h) => el('th', { scope: 'col', text: h })))), body)),
    more);
  await page();
  // A commit on this branch by anyone appears at the top, without a reload.
  return follow(session.org, project, async (event) => {
    if (!event.commit || event.branch !== branch) return;
    try {
      const { commits } = await api(`${p}/commits?ref=${event.commit}&limit=1`);
      if (commits[0] && !body.querySelector(`tr[data-commit="${commits[0].commit.id}"]`)) body.prepend(row(commits[0].commit));
    } catch (error) { say(error.message); }
  });
}

export async function renderCommit(main, project, id) {
  const p = projectPath(project);
  const { commits } = await api(`${p}/commits?ref=${encodeURIComponent(id)}&limit=1`);
  const c = commits[0].commit;
  const parent = c.parents[0] || null;
  const mapNode = el('div', { id: 'map', role: 'region', 'aria-label': 'The commit\'s change on the map' });
  const tableWrap = el('div', { class: 'tablewrap' });
  const more = el('button', { type: 'button', class: 'secondary', id: 'more-files', hidden: true, text: 'More files' });
  const count = el('p', { id: 'files-count', class: 'muted', 'aria-live': 'polite' });
  main.replaceChildren(
    el('p', {}, historyLink(project, 'main', '← history')),
    el('h1', { text: `Commit ${c.id.slice(0, 12)}` }),
    el('dl', { class: 'meta', id: 'commit-meta' },
      el('dt', { text: 'who' }), el('dd', { text: who(c) }),
      el('dt', { text: 'when' }), el('dd', { text: c.time }),
      el('dt', { text: 'why' }), el('dd', {}, el('pre', { id: 'message', text: c.message })),
      el('dt', { text: 'parents' }), el('dd', {}, ...(c.parents.length ? c.parents.flatMap((x) => [commitLink(project, x), ' ']) : ['none (the first commit)'])),
      c.runID ? el('dt', { text: 'run' }) : null,
      c.runID ? el('dd', {}, el('a', { id: 'commit-run', href: `#/p/${encodeURIComponent(project)}/runs/${encodeURIComponent(c.runID)}`, text: c.runID + (c.step != null ? `, call ${c.step}` : '') })) : null,
      c.approvals.length ? el('dt', { text: 'approved by' }) : null,
      c.approvals.length ? el('dd', { text: c.approvals.map((a) => a.slice(0, 12)).join(', ') }) : null),
    el('h2', { text: 'What changed' }), count,
    el('div', { class: 'project' },
      el('section', { 'aria-label': 'The change on the map' }, mapNode),
      el('section', { 'aria-label': 'Changed values' }, tableWrap, more)));

  // The files changed, a page at a time: against the first parent, or (the first commit) all it holds.
  let cursor = null;
  let shown = [];
  let map = null;
  async function page() {
    let files;
    if (parent) {
      const diff = await api(`${p}/diff?from=${parent}&to=${c.id}&limit=${filesPerPage}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''));
      files = diff.files;
      cursor = diff.next || null;
    } else {
      files = (await api(`${p}/commits/${c.id}`)).files;
      cursor = null;
    }
    shown = shown.concat(await readChanges(p, files, parent, c.id));
    tableWrap.replaceChildren(changeTable(project, shown));
    if (map) map.remove();
    map = changeMap(mapNode, shown);
    count.textContent = `${shown.length} file(s)` + (cursor ? ', more to show' : '');
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => page().catch((e) => say(e.message)));
  await page();
  return () => { if (map) map.remove(); };
}

export async function renderBranches(main, project) {
  const p = projectPath(project);
  const { branches } = await api(`${p}/branches`);
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}`, text: '← ' + project })),
    el('h1', { text: 'Branches' }),
    el('div', { class: 'tablewrap' }, el('table', { id: 'branches' },
      el('thead', {}, el('tr', {}, ['branch', 'head', 'made by', 'made', 'ahead of trunk', 'behind trunk', ''].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, branches.map((b) => el('tr', { 'data-branch': b.name },
        el('td', {}, historyLink(project, b.name)), el('td', {}, commitLink(project, b.head)),
        el('td', { text: b.author || '' }), el('td', { text: b.created || '' }),
        el('td', { class: 'num', text: String(b.ahead) }), el('td', { class: 'num', text: String(b.behind) }),
        el('td', { text: b.archived ? 'archived' : '' })))))));
}
