// A change between two states of the project, readably: a table of what changed in each file
// (each property, and the geometry), and the change on a map (the old geometry dashed grey, the new
// coloured by the kind of change). The merge-request page and a commit's page both show one.
import * as L from '/console/vendor/leaflet/leaflet.esm.js';
import { api, el, pathURL } from './api.js';
import { format } from './project.js';

const colors = { added: '#1e8449', removed: '#c0392b', deleted: '#c0392b', modified: '#b9770e', moved: '#b9770e' };

/// Each changed file with its content before and after (null where it did not exist, or is not JSON).
export async function readChanges(p, files, before, after) {
  const read = async (path, ref) => {
    if (!ref) return null;
    try { return await api(`${p}/files/${pathURL(path)}?raw=true&ref=${ref}`); } catch (e) { if (e.status === 404) return null; throw e; }
  };
  return Promise.all(files.map(async (f) => ({ ...f, before: await read(f.path, before), after: await read(f.path, after) })));
}

/// The rows of the table: file, change, property (or geometry), before, after.
export function changeRows(changes) {
  const rows = [];
  for (const c of changes) {
    const a = c.before?.properties || {};
    const b = c.after?.properties || {};
    const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    if (JSON.stringify(c.before?.geometry) !== JSON.stringify(c.after?.geometry)) rows.push([c.path, c.change, 'geometry', format(c.before?.geometry?.coordinates), format(c.after?.geometry?.coordinates)]);
    for (const k of names) rows.push([c.path, c.change, k, format(a[k]), format(b[k])]);
    if (rows.every((r) => r[0] !== c.path)) rows.push([c.path, c.change, '', '', '']);
  }
  return rows;
}

/// The table of changed values; each file's path opens its page.
export function changeTable(project, changes, id = 'changes') {
  const link = (path) => el('a', { href: `#/p/${encodeURIComponent(project)}/f/${pathURL(path)}`, text: path });
  return el('table', { id },
    el('thead', {}, el('tr', {}, ['file', 'change', 'property', 'before', 'after'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, changeRows(changes).map((r) => el('tr', {}, el('td', {}, link(r[0])), r.slice(1).map((x) => el('td', { text: x }))))));
}

/// Draws the changes on a new map in `node`; returns the map (its node's data-drawn counts the shapes).
export function changeMap(node, changes) {
  const map = L.map(node, { preferCanvas: true, attributionControl: false });
  const group = L.featureGroup().addTo(map);
  let drawn = 0;
  for (const c of changes) {
    if (c.before?.geometry && c.change !== 'added') {
      L.geoJSON(c.before, { pointToLayer: (f, at) => L.circleMarker(at, { radius: 6, color: '#555', dashArray: '3', fill: false }), style: () => ({ color: '#555', dashArray: '4', weight: 2 }) }).addTo(group);
      drawn++;
    }
    if (c.after?.geometry) {
      const color = colors[c.change] || '#1f5fbf';
      L.geoJSON(c.after, { pointToLayer: (f, at) => L.circleMarker(at, { radius: 6, color, fillOpacity: 0.8 }), style: () => ({ color, weight: 3 }) }).addTo(group);
      drawn++;
    }
  }
  node.dataset.drawn = String(drawn);
  const bounds = group.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 17, padding: [20, 20] }); else map.setView([60.17, 24.94], 13);
  return map;
}
