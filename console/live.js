// The project's change feed (server-sent events): every commit, by anyone, as it happens.
export function follow(org, project, onChange) {
  const source = new EventSource(`/v1/orgs/${encodeURIComponent(org)}/projects/${encodeURIComponent(project)}/events`);
  source.addEventListener('change', (event) => onChange(JSON.parse(event.data)));
  return () => source.close();
}
