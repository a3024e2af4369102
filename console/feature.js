// A feature's page: its properties (editable: a governed write with a reason), its position for a
// point (movable), and its history. A refused edit shows each ontology violation at its field and
// changes nothing.
import { api, el, say, pathURL } from './api.js';
import { format } from './project.js';
import { parse, saveFeature } from './edit.js';

export async function renderFeature(main, project, path) {
  const p = `/projects/${encodeURIComponent(project)}`;
  const feature = await api(`${p}/files/${pathURL(path)}?raw=true`);
  const history = await api(`${p}/commits?path=${encodeURIComponent(path)}&limit=20`);
  // Blame: the commit that last set each value (a property holding an object: its newest part).
  let blame = [];
  try { blame = (await api(`${p}/blame/${pathURL(path)}`)).entries; } catch (error) { blame = []; }
  const setBy = (name) => {
    const pointer = '/properties/' + name.replace(/~/g, '~0').replace(/\//g, '~1');
    const mine = blame.filter((b) => b.pointer === pointer || b.pointer.startsWith(pointer + '/'));
    return mine.sort((a, b) => (a.time < b.time ? 1 : -1))[0] || null;
  };
  const props = feature.properties || {};
  const fields = {};
  const errors = {};
  const grid = el('div', { class: 'props' });
  for (const [name, value] of Object.entries(props)) {
    const id = 'prop-' + name.replace(/[^A-Za-z0-9_-]/g, '_');
    const input = el('input', { id, name, value: format(value), 'data-kind': typeof value });
    errors[name] = el('div', { class: 'field-error', id: id + '-error', role: 'alert' });
    input.setAttribute('aria-describedby', id + '-error');
    fields[name] = input;
    const why = el('button', {
      type: 'button', class: 'secondary', 'aria-label': `where ${name} came from`, 'data-lineage': name, text: 'where from?',
      onclick: () => showLineage(p, path, '/properties/' + name.replace(/~/g, '~0').replace(/\//g, '~1'), lineage),
    });
    // A value naming another file of the project is a link to it.
    const target = typeof value === 'string' && /^[^\s]+\/[^\s]+\.json$/.test(value)
      ? el('a', { href: `#/p/${encodeURIComponent(project)}/f/${pathURL(value)}`, 'data-link': value, text: '→ open' }) : null;
    const last = setBy(name);
    const blamed = last ? el('span', { class: 'blame muted', 'data-blame': name },
      ` set by ${last.author}, ${last.time}, in `, el('a', { href: `#/p/${encodeURIComponent(project)}/c/${last.commit}`, text: last.commit.slice(0, 12) }),
      last.message ? ` (${last.message.split('\n')[0]})` : '') : null;
    grid.append(el('label', { for: id, text: name }), el('div', {}, input, ' ', target, target ? ' ' : null, why, blamed, errors[name]));
  }
  let position = null;
  if (feature.geometry?.type === 'Point') {
    const [lon, lat] = feature.geometry.coordinates;
    position = { lon: el('input', { id: 'lon', value: String(lon), inputmode: 'decimal' }), lat: el('input', { id: 'lat', value: String(lat), inputmode: 'decimal' }) };
    errors['geometry'] = el('div', { class: 'field-error', role: 'alert' });
    grid.append(el('label', { for: 'lon', text: 'longitude' }), position.lon, el('label', { for: 'lat', text: 'latitude' }), el('div', {}, position.lat, errors['geometry']));
  }
  const reason = el('input', { id: 'reason', required: true, placeholder: 'why this change' });
  const outcome = el('p', { id: 'outcome', role: 'status' });
  const save = el('button', { type: 'submit', text: 'Save' });
  const form = el('form', { id: 'edit' }, grid, el('p', {}, el('label', { for: 'reason', text: 'Reason ' }), reason), save, outcome);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(errors).forEach((e) => e.replaceChildren());
    outcome.textContent = '';
    const next = structuredClone(feature);
    for (const [name, input] of Object.entries(fields)) next.properties[name] = parse(input.value, input.dataset.kind);
    if (position) next.geometry.coordinates = [Number(position.lon.value), Number(position.lat.value)];
    if (await saveFeature(project, path, next, reason.value, outcome, (name) => errors[name])) say('saved');
  });
  const log = el('ol', { class: 'history' }, history.commits.map((c, i) => el('li', {},
    el('a', { href: `#/p/${encodeURIComponent(project)}/c/${c.commit.id}`, 'data-commit': c.commit.id }, el('code', { text: c.commit.id.slice(0, 12) })),
    ` ${c.commit.time} `, el('strong', { text: c.commit.author }),
    c.commit.runID ? el('span', { class: 'muted', text: ` (run ${c.commit.runID})` }) : null, ` ${c.commit.message.split('\n')[0]} `,
    i === 0 || c.change === 'deleted' ? null : el('button', {
      type: 'button', class: 'secondary', 'data-restore': c.commit.id, text: 'restore this version',
      onclick: async () => {
        // A governed write like any other: the old content, with the reason saying where it came from.
        try {
          const old = await api(`${p}/files/${pathURL(path)}?raw=true&ref=${c.commit.id}`);
          await api(`${p}/files/${pathURL(path)}`, { method: 'PUT', body: { content: JSON.stringify(old), message: `restore the version of ${c.commit.id.slice(0, 12)}` } });
          say('restored');
          renderFeature(main, project, path);
        } catch (error) {
          outcome.textContent = `Not restored: ${error.message}`;
          outcome.className = 'error';
        }
      },
    }))));
  const lineage = el('section', { id: 'lineage', 'aria-live': 'polite' });
  // The other direction: files whose values name this one (a governed Grep for the path as a JSON string).
  let backlinks = [];
  let more = false;
  try {
    const escaped = JSON.stringify(path).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const found = await api(`${p}/grep?pattern=${encodeURIComponent(escaped)}&mode=files&headLimit=100`);
    backlinks = found.files.filter((f) => f !== path);
    more = found.truncated;
  } catch (error) { backlinks = []; }
  const linkedFrom = el('ul', { id: 'backlinks' }, backlinks.map((f) => el('li', {}, el('a', { href: `#/p/${encodeURIComponent(project)}/f/${pathURL(f)}`, text: f }))));
  main.replaceChildren(
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}`, text: '← ' + project })),
    el('h1', { text: path }),
    el('h2', { text: 'Properties' }), form, lineage,
    el('h2', { text: 'Linked from' }), backlinks.length ? linkedFrom : el('p', { class: 'muted', text: 'No other file names this one.' }),
    more ? el('p', { class: 'muted', text: 'The first 100 are listed.' }) : null,
    el('h2', { text: 'History' }), log);
}

/// Where a value came from: the commit that set it, the agent run and its call when an agent did,
/// what that run had read before, and the merge request and reviews that admitted it.
async function showLineage(p, path, pointer, target) {
  try {
    const l = await api(`${p}/lineage?path=${encodeURIComponent(path)}&pointer=${encodeURIComponent(pointer)}`);
    const items = [
      el('li', {}, `set by commit `, el('code', { text: l.commit.slice(0, 12) }), ` at ${l.time} by `, el('strong', { text: l.author }), `: ${l.message.split('\n')[0]}`),
    ];
    if (l.run) items.push(el('li', { id: 'lineage-run' }, `in agent run ${l.run}` + (l.agent ? ` (${l.agent})` : '') + (l.call ? `, call ${l.call.step ?? l.call.number ?? ''} ${l.call.tool ?? ''}` : '')));
    if (l.call?.reason) items.push(el('li', {}, `the agent's reason: ${l.call.reason}`));
    if (l.readBefore?.length) items.push(el('li', {}, `having read ${l.readBefore.map((r) => r.path).join(', ')}`));
    if (l.mergeRequest) {
      const mr = l.mergeRequest;
      const reviews = (mr.reviews || []).map((r) => `${r.reviewer} ${r.verdict}: ${r.rationale}`).join('; ');
      items.push(el('li', { id: 'lineage-approval' }, `admitted by merge request !${mr.number ?? ''} ${mr.title ?? ''}` + (reviews ? ` (${reviews})` : '')));
    }
    if (l.workflow) items.push(el('li', {}, `workflow ${l.workflow.workflow}, run ${l.workflow.run}`));
    target.replaceChildren(el('h2', { text: `Where ${pointer} came from` }), el('ul', {}, items));
  } catch (error) {
    target.replaceChildren(el('p', { class: 'error', text: error.message }));
  }
}
