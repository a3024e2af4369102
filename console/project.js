// A project's map and tables: one layer per collection (the ontology's entity types, or the
// top-level folders), read through the project's OGC API; a table of one collection beside it.
// The table's filter narrows table and map together; selecting a row highlights its feature on
// the map and the reverse. The page follows the change feed: a commit by anyone redraws it.
import * as L from '/console/vendor/leaflet/leaflet.esm.js';
import { api, el, say, session, pathURL } from './api.js';
import { follow } from './live.js';
import { parse, saveFeature } from './edit.js';

const palette = ['#1f5fbf', '#c0392b', '#1e8449', '#7d3c98', '#b9770e', '#6e2c00', '#ad1457', '#117a8b'];
/// A collection this size or smaller is fetched whole, once; a larger one a view at a time.
const wholeCollection = 20000;
/// The most features of a large collection drawn in one view: above it, the view shows the
/// server's counts per cell (from its spatial index) until the person zooms in.
const inView = 4000;
/// A cell of the aggregate grid, in screen pixels.
const cellPixels = 64;
const rowsPerPage = 500;

export async function renderProject(main, project) {
  const ogc = `/projects/${encodeURIComponent(project)}/ogc`;
  const { collections } = await api(ogc + '/collections');
  // The ontology's types give a collection's columns (typed, with units) where there is one.
  let ontology = null;
  try { ontology = await api(`/projects/${encodeURIComponent(project)}/ontology`); } catch (error) { ontology = null; }
  const typeOf = (id) => (ontology?.entityTypes || ontology?.ontology?.entityTypes || []).find((t) => t.id === id);
  const mapNode = el('div', { id: 'map', role: 'region', 'aria-label': 'Map of the project\'s features' });
  const legend = el('div', { class: 'legend', role: 'group', 'aria-label': 'Layers' });
  const choose = el('select', { id: 'collection' }, collections.map((c) => el('option', { value: c.id, text: c.title })));
  const filter = el('input', { id: 'filter', type: 'search', placeholder: 'text in any property' });
  const count = el('p', { id: 'count', class: 'muted', 'aria-live': 'polite' });
  const table = el('table', { id: 'table' });
  const more = el('button', { type: 'button', class: 'secondary', hidden: true, text: 'Show more rows' });
  const tableOutcome = el('p', { id: 'table-outcome', role: 'status' });
  // The time slider: the project as it was after any of its last commits on main (rightmost: now, live).
  const { commits } = await api(`/projects/${encodeURIComponent(project)}/commits?limit=200`);
  const timeline = commits.slice().reverse();
  const slider = el('input', { id: 'time', type: 'range', min: '0', max: String(Math.max(0, timeline.length - 1)), value: String(Math.max(0, timeline.length - 1)) });
  const when = el('output', { id: 'when', for: 'time', text: 'now (live)' });
  // Any instant, not only a commit: main as it was then (`main@TIME`).
  const instant = el('input', { id: 'instant', type: 'datetime-local', step: '0.001' });
  main.replaceChildren(
    el('h1', { text: project }),
    el('p', {}, el('a', { href: `#/p/${encodeURIComponent(project)}/mr`, id: 'to-inbox', text: 'Merge requests' }), ' ',
      el('a', { href: `#/p/${encodeURIComponent(project)}/runs`, id: 'to-runs', text: 'Runs' }), ' ',
      el('a', { href: `#/p/${encodeURIComponent(project)}/history`, id: 'to-history', text: 'History' }), ' ',
      el('a', { href: `#/p/${encodeURIComponent(project)}/branches`, id: 'to-branches', text: 'Branches' })),
    el('p', { class: 'timeline' }, el('label', { for: 'time', text: 'As of ' }), slider, ' ', when, ' ',
      el('label', { for: 'instant', text: 'or at ' }), instant),
    el('div', { class: 'project' },
      el('section', { 'aria-label': 'Map' }, legend, mapNode),
      el('section', { 'aria-label': 'Table' },
        el('label', { for: 'collection', text: 'Table of ' }), choose, ' ',
        el('label', { for: 'filter', text: 'Filter ' }), filter,
        count, tableOutcome, el('div', { class: 'tablewrap' }, table), more)));

  const map = L.map(mapNode, { preferCanvas: true, zoomControl: true, attributionControl: false });
  map.setView([60.17, 24.94], 13);
  const state = { data: {}, cells: {}, large: {}, total: {}, layers: {}, colors: {}, visible: {}, selected: null, rows: rowsPerPage, ref: null, sort: null };
  function addToLegend(c, i) {
    state.colors[c.id] = palette[i % palette.length];
    state.visible[c.id] = true;
    const box = el('input', { type: 'checkbox', checked: true, id: 'layer-' + c.id });
    box.addEventListener('change', () => { state.visible[c.id] = box.checked; draw(); });
    legend.append(el('label', { for: 'layer-' + c.id }, box, el('span', { class: 'swatch', style: null }), ` ${c.title} `,
      el('span', { class: 'muted', id: 'n-' + c.id }, '')));
    legend.lastChild.querySelector('.swatch').style.background = state.colors[c.id];
  }
  collections.forEach(addToLegend);

  /// Collections that appeared since the page opened (a new folder, a new entity type).
  async function refreshCollections() {
    const now = (await api(ogc + '/collections')).collections;
    for (const c of now) {
      if (collections.some((k) => k.id === c.id)) continue;
      collections.push(c);
      addToLegend(c, collections.length - 1);
      choose.append(el('option', { value: c.id, text: c.title }));
      state.data[c.id] = [];
    }
  }

  function matches(feature) {
    const needle = filter.value.trim().toLowerCase();
    if (!needle) return true;
    if (feature.id.toLowerCase().includes(needle)) return true;
    return Object.values(feature.properties || {}).some((v) => String(v).toLowerCase().includes(needle));
  }

  const asOf = () => (state.ref ? `&ref=${encodeURIComponent(state.ref)}` : '');
  const itemsURL = (c) => `${ogc}/collections/${encodeURIComponent(c.id)}/items?limit=10000` + asOf();
  const viewBox = () => {
    const b = map.getBounds();
    const west = Math.max(-180, b.getWest());
    const east = Math.min(180, b.getEast());
    return [west, Math.max(-90, b.getSouth()), east, Math.min(90, b.getNorth())].map((x) => x.toFixed(6)).join(',');
  };

  /// Every feature of a small collection, a page at a time.
  async function whole(c) {
    const first = await api(itemsURL(c));
    let features = first.features;
    let next = (first.links || []).find((l) => l.rel === 'next');
    while (next) {
      const page = await api(next.href.slice(next.href.indexOf('/v1/orgs/')).replace(/^\/v1\/orgs\/[^/]+/, ''));
      features = features.concat(page.features);
      next = (page.links || []).find((l) => l.rel === 'next');
    }
    return features;
  }

  /// What of a large collection the view shows: its features when few enough are in view,
  /// else the server's counts per cell of a grid over the view.
  async function inViewOf(c) {
    const size = map.getSize();
    const columns = Math.max(1, Math.min(64, Math.round(size.x / cellPixels)));
    const rows = Math.max(1, Math.min(64, Math.round(size.y / cellPixels)));
    const box = viewBox();
    const grid = await api(`${ogc}/collections/${encodeURIComponent(c.id)}/cells?bbox=${box}&columns=${columns}&rows=${rows}` + asOf());
    if (grid.numberMatched > inView) return { features: [], cells: grid.cells, matched: grid.numberMatched };
    const page = await api(`${itemsURL(c)}&bbox=${box}`);
    return { features: page.features, cells: null, matched: grid.numberMatched };
  }

  /// Loads `which` collections (all by default; after a move or a commit, only the large ones,
  /// whose view changed: a small one is held whole and kept current feature by feature).
  async function load(which = collections) {
    await Promise.all(which.map(async (c) => {
      if (state.large[c.id] === undefined || state.ref !== state.loadedRef) {
        // How many features the collection holds (from the server's index: one cell, no feature read).
        const all = await api(`${ogc}/collections/${encodeURIComponent(c.id)}/cells?columns=1&rows=1` + asOf());
        state.large[c.id] = all.numberMatched > wholeCollection;
        state.total[c.id] = all.numberMatched;
      }
      const n = document.getElementById('n-' + c.id);
      if (!state.large[c.id]) {
        state.data[c.id] = await whole(c);
        state.cells[c.id] = null;
        n.textContent = `(${state.data[c.id].length})`;
        return;
      }
      const shown = await inViewOf(c);
      state.data[c.id] = shown.features;
      state.cells[c.id] = shown.cells;
      n.textContent = `(${shown.matched} in view of ${state.total[c.id]}` + (shown.cells ? ': zoom in to see them)' : ')');
    }));
    state.loadedRef = state.ref;
    draw();
    renderTable({ live: true });
    // How many views were loaded: what a test (or a person's tools) waits on after a move.
    mapNode.dataset.loads = String((Number(mapNode.dataset.loads) || 0) + 1);
  }

  /// A cell of a large collection's aggregate: a disc sized by its count, which zooms in on click.
  function cellMarker(cell, color) {
    const radius = Math.round(10 + 4 * Math.log10(cell.count));
    // Styled through the DOM, not an inline style attribute, which the page's CSP refuses.
    const disc = el('span', { text: String(cell.count) });
    disc.style.borderColor = color;
    const marker = L.marker([cell.center[1], cell.center[0]], {
      keyboard: true,
      title: `${cell.count} features: zoom in`,
      alt: `${cell.count} features`,
      icon: L.divIcon({ className: 'cell', html: disc, iconSize: [radius * 2, radius * 2] }),
    });
    marker.on('click', () => map.setView([cell.center[1], cell.center[0]], Math.min(map.getZoom() + 2, 19)));
    return marker;
  }

  function draw() {
    let drawn = 0;
    let cells = 0;
    for (const c of collections) {
      if (state.layers[c.id]) state.layers[c.id].remove();
      if (!state.visible[c.id]) continue;
      const color = state.colors[c.id];
      if (state.cells[c.id]) {
        cells += state.cells[c.id].length;
        state.layers[c.id] = L.layerGroup(state.cells[c.id].map((cell) => cellMarker(cell, color))).addTo(map);
        continue;
      }
      const shown = (state.data[c.id] || []).filter(matches);
      drawn += shown.length;
      state.layers[c.id] = L.geoJSON(shown, {
        pointToLayer: (f, at) => L.circleMarker(at, { radius: 3, color, weight: 1, fillOpacity: 0.7 }),
        style: () => ({ color, weight: 2 }),
        onEachFeature: (f, layer) => layer.on('click', () => select(c.id, f.id, false)),
      }).addTo(map);
    }
    mapNode.dataset.drawn = String(drawn);
    mapNode.dataset.cells = String(cells);
    highlight();
  }

  /// The table's columns: the entity type's declared properties (with type and unit), or the
  /// names the first features carry.
  function columns(collection, features) {
    const type = typeOf(collection);
    if (type && type.properties?.length) {
      return type.properties.map((p) => ({ name: p.name, label: p.name + (p.unit ? ` (${p.unit})` : ''), numeric: p.type === 'number' || p.type === 'integer' }));
    }
    const names = new Set();
    for (const f of features.slice(0, 2000)) for (const k of Object.keys(f.properties || {})) names.add(k);
    return [...names].slice(0, 12).map((name) => ({ name, label: name, numeric: features.slice(0, 50).every((f) => f.properties?.[name] === undefined || typeof f.properties[name] === 'number') }));
  }

  function sorted(rows) {
    if (!state.sort) return rows;
    const { name, descending } = state.sort;
    const key = (f) => (name === '#id' ? f.id : f.properties?.[name]);
    return rows.slice().sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === y) return 0;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x) < String(y) ? -1 : 1;
      return descending ? -order : order;
    });
  }

  /// Re-renders the table; a live update waits while a row is being edited (it is drawn when
  /// the editor closes), anything the person does closes the editor.
  function renderTable({ live = false } = {}) {
    if (live && state.editing) { state.stale = true; return; }
    state.editing = null;
    state.stale = false;
    const id = choose.value;
    const rows = sorted((state.data[id] || []).filter(matches));
    const cols = columns(id, rows);
    const header = (name, label) => {
      const current = state.sort?.name === name ? (state.sort.descending ? 'descending' : 'ascending') : 'none';
      return el('th', { scope: 'col', 'aria-sort': current },
        el('button', { type: 'button', class: 'sort', 'data-sort': name, text: label + (current === 'ascending' ? ' ▲' : current === 'descending' ? ' ▼' : ''),
          onclick: () => {
            state.sort = { name, descending: state.sort?.name === name ? !state.sort.descending : false };
            renderTable();
          } }));
    };
    const head = el('thead', {}, el('tr', {}, header('#id', 'feature'), cols.map((c) => header(c.name, c.label)), el('th', { scope: 'col', text: 'edit' })));
    const body = el('tbody');
    for (const f of rows.slice(0, state.rows)) {
      const link = el('a', { href: `#/p/${encodeURIComponent(project)}/f/${pathURL(f.id)}`, text: f.id });
      // The past is read-only: a row is edited as it is now.
      const edit = el('button', { type: 'button', class: 'secondary edit-row', 'data-edit': f.id, 'aria-label': `edit ${f.id}`, text: 'edit',
        disabled: Boolean(state.ref), title: state.ref ? 'This is the project as it was: move the time slider to now to edit.' : null });
      const tr = el('tr', { 'data-id': f.id, tabindex: '0' }, el('td', {}, link),
        cols.map((c) => el('td', { class: c.numeric ? 'num' : null, text: format(f.properties?.[c.name]) })), el('td', {}, edit));
      edit.addEventListener('click', (event) => { event.stopPropagation(); editRow(tr, f, cols); });
      tr.addEventListener('click', (event) => { if (event.target.tagName !== 'A' && !tr.classList.contains('editing')) select(id, f.id, true); });
      tr.addEventListener('keydown', (event) => { if (event.key === 'Enter') select(id, f.id, true); });
      body.append(tr);
    }
    table.replaceChildren(head, body);
    table.dataset.rows = String(rows.length);
    count.textContent = state.cells[id]
      ? `${state.cells[id].reduce((n, c) => n + c.count, 0)} features in view: zoom in on the map to list them`
      : `${rows.length} feature(s)` + (rows.length > state.rows ? `, the first ${state.rows} listed` : '');
    more.hidden = rows.length <= state.rows;
    highlight();
  }

  /// Edits a row in place: its columns become fields, with the position of a point and a reason
  /// below; saving is a governed write of the file as it is now with only what was changed, so
  /// properties not shown are kept as they are. Violations appear under their fields.
  function editRow(tr, f, cols) {
    if (state.editing) renderTable();
    state.editing = f.id;
    tr.classList.add('editing');
    const inputs = {};
    const errors = {};
    cols.forEach((c, i) => {
      const value = f.properties?.[c.name];
      const kind = value === undefined || value === null ? (c.numeric ? 'number' : 'string') : typeof value;
      inputs[c.name] = el('input', { name: c.name, value: format(value), 'data-kind': kind, 'aria-label': `${c.label} of ${f.id}`, size: 8 });
      errors[c.name] = el('div', { class: 'field-error', role: 'alert' });
      tr.children[i + 1].replaceChildren(inputs[c.name], errors[c.name]);
    });
    const point = f.geometry?.type === 'Point';
    const at = point ? f.geometry.coordinates : null;
    const lon = point ? el('input', { id: 'row-lon', value: String(at[0]), inputmode: 'decimal', size: 10 }) : null;
    const lat = point ? el('input', { id: 'row-lat', value: String(at[1]), inputmode: 'decimal', size: 10 }) : null;
    errors.geometry = el('div', { class: 'field-error', role: 'alert' });
    const reason = el('input', { id: 'row-reason', required: true, placeholder: 'why this change' });
    const close = () => { state.editing = null; renderTable(); };
    const form = el('form', { id: 'row-edit' },
      point ? [el('label', { for: 'row-lon', text: 'longitude ' }), lon, ' ', el('label', { for: 'row-lat', text: 'latitude ' }), lat, errors.geometry] : null,
      el('label', { for: 'row-reason', text: ' Reason ' }), reason, ' ', el('button', { type: 'submit', text: 'Save' }), ' ',
      el('button', { type: 'button', class: 'secondary', text: 'Cancel', onclick: close }));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      Object.values(errors).forEach((e) => e.replaceChildren());
      const p = `/projects/${encodeURIComponent(project)}`;
      const next = await api(`${p}/files/${pathURL(f.id)}?raw=true`);
      next.properties = next.properties || {};
      for (const c of cols) {
        const input = inputs[c.name];
        if (input.value !== format(f.properties?.[c.name])) next.properties[c.name] = parse(input.value, input.dataset.kind);
      }
      if (point && (lon.value !== String(at[0]) || lat.value !== String(at[1]))) next.geometry.coordinates = [Number(lon.value), Number(lat.value)];
      if (await saveFeature(project, f.id, next, reason.value, tableOutcome, (name) => errors[name])) {
        state.editing = null;
        renderTable();
      }
    });
    const editor = el('tr', { class: 'editor' }, el('td', { colspan: String(cols.length + 2) }, form));
    tr.after(editor);
    (Object.values(inputs)[0] || reason).focus();
  }

  function select(collection, id, fromTable) {
    state.selected = { collection, id };
    if (choose.value !== collection) { choose.value = collection; renderTable(); }
    highlight();
    const feature = (state.data[collection] || []).find((f) => f.id === id);
    if (feature && fromTable) {
      const layer = L.geoJSON(feature);
      const b = layer.getBounds();
      if (b.isValid()) map.fitBounds(b, { maxZoom: 17 });
    }
    if (!fromTable) table.querySelector(`tr[data-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'nearest' });
  }

  function highlight() {
    table.querySelectorAll('tr.selected').forEach((r) => r.classList.remove('selected'));
    if (state.highlight) { state.highlight.remove(); state.highlight = null; }
    if (!state.selected) return;
    table.querySelector(`tr[data-id="${CSS.escape(state.selected.id)}"]`)?.classList.add('selected');
    const feature = (state.data[state.selected.collection] || []).find((f) => f.id === state.selected.id);
    if (!feature) return;
    state.highlight = L.geoJSON(feature, {
      pointToLayer: (f, at) => L.circleMarker(at, { radius: 9, color: '#f0a000', weight: 3, fill: false }),
      style: () => ({ color: '#f0a000', weight: 5 }),
    }).addTo(map);
    mapNode.dataset.selected = state.selected.id;
  }

  slider.addEventListener('change', () => {
    const i = Number(slider.value);
    const live = i === timeline.length - 1;
    state.ref = live ? null : timeline[i].commit.id;
    when.textContent = live ? 'now (live)' : `${timeline[i].commit.time}: ${timeline[i].commit.message.split('\n')[0]} (${timeline[i].commit.id.slice(0, 12)})`;
    mapNode.dataset.ref = state.ref || '';
    load().catch((e) => say(e.message));
  });
  instant.addEventListener('change', () => {
    const at = instant.value ? new Date(instant.value) : null;
    if (at && Number.isNaN(at.getTime())) return;
    state.ref = at ? `main@${at.toISOString()}` : null;
    when.textContent = at ? `main as it was at ${at.toISOString()}` : 'now (live)';
    if (!at) slider.value = slider.max;
    mapNode.dataset.ref = state.ref || '';
    load().catch((e) => say(e.message));
  });
  filter.addEventListener('input', () => { state.rows = rowsPerPage; draw(); renderTable(); });
  choose.addEventListener('change', () => { state.rows = rowsPerPage; renderTable(); });
  more.addEventListener('click', () => { state.rows += rowsPerPage; renderTable(); });
  // A large collection is asked again for what the new view shows, the last move winning.
  let moves = 0;
  map.on('moveend', () => {
    if (!collections.some((c) => state.large[c.id])) return;
    const mine = ++moves;
    setTimeout(() => { if (mine === moves) load(collections.filter((c) => state.large[c.id])).catch((e) => say(e.message)); }, 150);
  });

  map.invalidateSize();
  const extent = L.latLngBounds([]);
  for (const c of collections) {
    const box = c.extent?.spatial?.bbox?.[0];
    if (box) extent.extend([[box[1], box[0]], [box[3], box[2]]]);
  }
  if (extent.isValid()) map.fitBounds(extent, { maxZoom: 17, animate: false });
  await load();

  // A commit names the files it changed: only those are read again (a feature belongs to the
  // collection whose items route serves it), unless it changed too many to be worth it.
  async function place(path) {
    for (const c of collections) {
      try {
        const feature = await api(`${ogc}/collections/${encodeURIComponent(c.id)}/items/${pathURL(path)}`);
        delete feature.links;
        (state.data[c.id] = state.data[c.id] || []).push(feature);
        return true;
      } catch (error) {
        if (error.status !== 404) throw error;
      }
    }
    return false;
  }

  async function apply(paths) {
    if (paths.length > 200) { await refreshCollections(); return load(); }
    let refreshed = false;
    for (const path of paths) {
      for (const c of collections) state.data[c.id] = (state.data[c.id] || []).filter((f) => f.id !== path);
      if (!(await place(path)) && !refreshed) {
        // Perhaps a collection the page does not know yet: look again, once per commit.
        refreshed = true;
        await refreshCollections();
        await place(path);
      }
    }
    for (const c of collections) {
      const n = document.getElementById('n-' + c.id);
      if (n && !state.large[c.id]) n.textContent = `(${(state.data[c.id] || []).length})`;
    }
    // A large collection's view is asked again (its counts, or the features in view).
    const large = collections.filter((c) => state.large[c.id]);
    if (large.length) return load(large);
    draw();
    renderTable({ live: true });
  }

  const stop = follow(session.org, project, (event) => {
    if (!event.commit || event.branch !== 'main' || state.ref) return;
    say(`${event.actor}: ${event.action} (${event.paths.length} file(s))`);
    apply(event.paths || []).catch((e) => say(e.message));
  });
  return () => { stop(); map.remove(); };
}

export function format(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
