// The console: sign-in, then a project's map and tables, or a feature's page, by the URL's hash.
import { api, el, session, signIn, signOut, APIError } from './api.js';
import { renderProject } from './project.js';
import { renderFeature } from './feature.js';
import { renderInbox, renderMergeRequest } from './review.js';
import { renderApprovals, renderRuns, renderRun, renderWorkflowRun, renderAudit, renderAccess } from './governance.js';
import { renderHistory, renderCommit, renderBranches } from './history.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
const out = document.getElementById('signout');
let leave = null;

out.addEventListener('click', async () => { await signOut(); location.hash = '#/'; route(); });
window.addEventListener('hashchange', () => route());

// Each route renders into a view of its own, attached at once; a route overtaken by a newer one
// (a slow page answered after the person moved on, or signed out) renders into a view no longer
// shown, and its live feed is closed, so it never covers the page the person is on.
let generation = 0;

async function route() {
  const mine = ++generation;
  if (leave) { leave(); leave = null; }
  const view = el('div');
  main.replaceChildren(view);
  const current = await session.load();
  if (mine !== generation) return;
  who.textContent = current ? `${current.subject} · ${current.organization}` : '';
  out.hidden = !current;
  if (!current) return renderSignIn(view);
  const parts = location.hash.replace(/^#\/?/, '').split('?')[0].split('/').filter((x) => x !== '').map(decodeURIComponent);
  const keep = (stop) => {
    if (mine === generation) leave = stop || null;
    else if (stop) stop();
  };
  try {
    if (parts[0] === 'p' && parts[1] && parts[2] === 'f') return await renderFeature(view, parts[1], parts.slice(3).join('/'));
    if (parts[0] === 'p' && parts[1] && parts[2] === 'mr' && parts[3]) return keep(await renderMergeRequest(view, parts[1], parts[3]));
    if (parts[0] === 'p' && parts[1] && parts[2] === 'mr') return keep(await renderInbox(view, parts[1]));
    if (parts[0] === 'p' && parts[1] && parts[2] === 'history') return keep(await renderHistory(view, parts[1]));
    if (parts[0] === 'p' && parts[1] && parts[2] === 'c' && parts[3]) return keep(await renderCommit(view, parts[1], parts[3]));
    if (parts[0] === 'p' && parts[1] && parts[2] === 'branches') return await renderBranches(view, parts[1]);
    if (parts[0] === 'p' && parts[1] && parts[2] === 'runs' && parts[3]) return await renderRun(view, parts[1], parts[3]);
    if (parts[0] === 'p' && parts[1] && parts[2] === 'wf' && parts[3] && parts[4]) return await renderWorkflowRun(view, parts[1], parts[3], parts[4]);
    if (parts[0] === 'p' && parts[1] && parts[2] === 'runs') return keep(await renderRuns(view, parts[1]));
    if (parts[0] === 'approvals') return await renderApprovals(view);
    if (parts[0]?.startsWith('audit')) return await renderAudit(view);
    if (parts[0]?.startsWith('access')) return await renderAccess(view);
    if (parts[0] === 'p' && parts[1]) return keep(await renderProject(view, parts[1]));
    await renderProjects(view);
  } catch (error) {
    view.replaceChildren(el('p', { class: 'error', role: 'alert', text: error instanceof APIError ? `${error.message} (${error.code})` : String(error) }));
  }
}

function renderSignIn(view) {
  const org = el('input', { id: 'org', value: 'default', required: true, autocomplete: 'organization' });
  const key = el('input', { id: 'key', type: 'password', required: true, autocomplete: 'current-password' });
  const problem = el('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const form = el('form', { class: 'signin', id: 'signin' },
    el('h1', { text: 'Sign in' }),
    el('label', {}, 'Organization', org),
    el('label', {}, 'API key', key),
    el('button', { type: 'submit', text: 'Sign in' }),
    el('p', {}, el('a', { id: 'oidc', href: '/console/oidc/start?organization=default', text: 'Sign in with your identity provider' })),
    problem);
  org.addEventListener('input', () => {
    form.querySelector('#oidc').href = `/console/oidc/start?organization=${encodeURIComponent(org.value.trim())}`;
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await signIn(org.value.trim(), key.value.trim());
      key.value = '';
      route();
    } catch (error) {
      problem.textContent = error.message;
    }
  });
  view.replaceChildren(form);
  key.focus();
}

async function renderProjects(view) {
  const { projects } = await api('/projects');
  view.replaceChildren(el('h1', { text: 'Projects' }),
    el('ul', { id: 'projects' }, projects.map((p) => el('li', {}, el('a', { href: `#/p/${encodeURIComponent(p.name)}`, text: p.name })))));
}

route();
