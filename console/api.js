// The console's one way to the server: the API, same origin, with the session cookie (sent by the
// browser, unreadable here) and, on anything that is not a read, the session's CSRF token.

export class APIError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `the server answered ${status}`);
    this.status = status;
    this.code = error.code || 'http_' + status;
    this.details = error.details || {};
    this.violations = error.violations || [];
  }
}

export const session = {
  current: null,
  async load() {
    const answer = await fetch('/console/session', { credentials: 'same-origin' });
    this.current = answer.ok ? await answer.json() : null;
    return this.current;
  },
  get org() { return this.current ? this.current.organization : ''; },
};

export async function signIn(organization, key) {
  const answer = await fetch('/console/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ organization, key }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new APIError(answer.status, body);
  session.current = body;
  return body;
}

export async function signOut() {
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRF-Token': session.current?.csrf || '' } });
  session.current = null;
}

/// A call under the organization: `path` after /v1/orgs/{org}.
export async function api(path, { method = 'GET', body, reason } = {}) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = session.current?.csrf || '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (reason) headers['X-Cairn-Reason'] = reason;
  const answer = await fetch(`/v1/orgs/${encodeURIComponent(session.org)}${path}`, {
    method,
    credentials: 'same-origin',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!answer.ok) throw new APIError(answer.status, parsed);
  return parsed;
}

/// A file path as URL segments (each escaped, the slashes kept).
export function pathURL(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function say(text) {
  const status = document.getElementById('status');
  status.replaceChildren(el('div', { class: 'toast' }, text));
  clearTimeout(say.timer);
  say.timer = setTimeout(() => status.replaceChildren(), 6000);
}
