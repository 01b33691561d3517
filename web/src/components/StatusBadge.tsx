import type { DeploymentStatus } from '../api';

const labels: Record<string, string> = {
  RUNNING: 'running',
  PENDING: 'pending',
  STOPPED: 'stopped',
  ERROR: 'error',
};

/** titleOf is the hover text: the error for ERROR, else the state and since when. */
export function statusTitle(st: DeploymentStatus | null): string {
  if (!st) return 'Status not known yet';
  if (st.error) return `${st.state}: ${st.error}`;
  return st.since ? `${st.state} since ${new Date(st.since).toLocaleString()}` : st.state;
}

/** StatusBadge: green RUNNING, yellow PENDING, red STOPPED and ERROR (with the error on hover). */
export function StatusBadge({ status, id }: { status: DeploymentStatus | null; id?: string }) {
  const state = status?.state ?? 'UNKNOWN';
  return (
    <span
      id={id}
      className={`status status--${labels[state] ?? 'unknown'}`}
      data-state={state}
      title={statusTitle(status)}
      role="status"
      aria-live="polite"
    >
      <span className="status__dot" aria-hidden="true" />
      <span className="visually-hidden">Deployment status: </span>
      {status ? state : '—'}
    </span>
  );
}
