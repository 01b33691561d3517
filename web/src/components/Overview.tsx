import type { Project } from '../api';
import type { Deployment } from '../hooks';
import { StatusBadge } from './StatusBadge';

function when(t: string | null | undefined): string {
  return t ? new Date(t).toLocaleString() : '—';
}

function mode(p: Project): string {
  const d = p.deployment;
  switch (d?.mode) {
    case 'always_on':
      return 'Always on';
    case 'on_demand':
      return `On demand (idle timeout ${d.idle_timeout || 'default'})`;
    case 'scheduled':
      return `Scheduled: ${d.schedule.map((w) => `${w.start} → ${w.end}`).join('; ')} (${d.timezone || 'UTC'})`;
    default:
      return '—';
  }
}

/** Overview: the selected deployment's details panel (state, versions, the error in full). */
export function Overview({ projects, project, branch, deployment }: { projects: Project[] | null; project: Project | null; branch: string; deployment: Deployment }) {
  if (projects !== null && projects.length === 0) return <p>No project yet: create one with New project.</p>;
  if (!project) return <p>Select a project, or create one with New project.</p>;
  const st = deployment.status;
  return (
    <section className="panel" aria-labelledby="details-title">
      <h2 id="details-title">
        {project.name}
        {branch ? ` / ${branch}` : ''}
      </h2>
      <dl className="details">
        <dt>Repository</dt>
        <dd>{project.repository.type === 'managed' ? 'Managed' : `Imported from ${project.repository.url}`}</dd>
        <dt>Environment</dt>
        <dd>{project.environment}</dd>
        <dt>Deployment mode</dt>
        <dd>{mode(project)}</dd>
        <dt>Protected branches</dt>
        <dd>{project.protected_branches.length ? project.protected_branches.join(', ') : 'none'}</dd>
        {branch && (
          <>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={st} />
            </dd>
            <dt>Since</dt>
            <dd>{when(st?.since)}</dd>
            <dt>Last heartbeat</dt>
            <dd>{when(st?.heartbeat_at)}</dd>
            <dt>Version</dt>
            <dd>
              <code>{st?.version ? st.version.slice(0, 12) : '—'}</code>
            </dd>
            <dt>Serving version</dt>
            <dd>
              <code>{st?.serving_version ? st.serving_version.slice(0, 12) : '—'}</code>
              {st?.serving_previous ? ' (the previous version keeps serving)' : ''}
            </dd>
          </>
        )}
      </dl>
      {st?.error && (
        <div className="error-panel" role="region" aria-label="Deployment error">
          <h3>Error</h3>
          <pre>{st.error}</pre>
        </div>
      )}
    </section>
  );
}
