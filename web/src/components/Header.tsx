import { useId, useState } from 'react';
import type { Branch, Project } from '../api';
import { lifecycleBlocker, lifecycleButtons } from '../access';
import type { Deployment, Operation } from '../hooks';
import { Confirm } from './Modal';
import { StatusBadge } from './StatusBadge';

export interface HeaderProps {
  projects: Project[] | null;
  branches: Branch[] | null;
  project: string;
  branch: string;
  deployment: Deployment;
  credentialsBlocker: string | null;
  onProject: (p: string) => void;
  onBranch: (b: string) => void;
  onNewProject: () => void;
  onSettings: () => void;
  onCredentials: () => void;
  onSignOut: () => void;
}

/**
 * GuardedButton is a button that explains why it cannot act: aria-disabled (a disabled button
 * gets no hover, so no tooltip), the reason as its title and, for screen readers, described by.
 */
export function GuardedButton({ reason, onClick, children, className }: { reason: string | null; onClick: () => void; children: string; className?: string }) {
  const id = useId();
  return (
    <>
      <button
        type="button"
        className={className}
        aria-disabled={reason ? 'true' : undefined}
        title={reason ?? undefined}
        aria-describedby={reason ? id : undefined}
        onClick={() => {
          if (!reason) onClick();
        }}
      >
        {children}
      </button>
      {reason && (
        <span id={id} className="visually-hidden">
          {reason}
        </span>
      )}
    </>
  );
}

export function Header(p: HeaderProps) {
  const dep = p.deployment;
  const [confirm, setConfirm] = useState<Operation | null>(null);
  const sel = { project: p.project, branch: p.branch, state: dep.status?.state ?? null };
  const opBlocker = lifecycleBlocker(sel, dep.busy !== null);
  const shows = lifecycleButtons(dep.status?.state ?? null);
  const errorText = dep.status?.state === 'ERROR' ? dep.status.error : '';
  const projectKnown = p.projects?.some((x) => x.name === p.project) ?? true;

  return (
    <header className="topbar">
      <div className="brand" aria-label="Cubit">
        <span className="brand__mark" aria-hidden="true">◆</span> Cubit
      </div>
      <div className="picker">
        <label htmlFor="project-select">Project</label>
        <select id="project-select" value={p.project} onChange={(e) => p.onProject(e.target.value)}>
          <option value="">{p.projects === null ? 'Loading…' : 'Select a project'}</option>
          {!projectKnown && <option value={p.project}>{p.project} (unknown)</option>}
          {p.projects?.map((x) => (
            <option key={x.name} value={x.name}>
              {x.name}
            </option>
          ))}
        </select>
        <button type="button" onClick={p.onNewProject}>
          New project
        </button>
      </div>
      <div className="picker">
        <label htmlFor="branch-select">Branch</label>
        <select id="branch-select" value={p.branch} onChange={(e) => p.onBranch(e.target.value)} disabled={!p.project}>
          <option value="">{p.project && p.branches === null ? 'Loading…' : 'Select a branch'}</option>
          {p.branch && p.branches && !p.branches.some((b) => b.name === p.branch) && <option value={p.branch}>{p.branch} (unknown)</option>}
          {p.branches?.map((b) => (
            <option key={b.name} value={b.name}>
              {b.name}
            </option>
          ))}
        </select>
      </div>
      <div className="deployment">
        {p.project && p.branch ? <StatusBadge status={dep.status} /> : null}
        {errorText && (
          <details className="error-details">
            <summary>Error details</summary>
            <pre>{errorText}</pre>
          </details>
        )}
      </div>
      <div className="actions">
        {shows.start && (
          <GuardedButton reason={opBlocker} onClick={() => void dep.run('start')}>
            Start
          </GuardedButton>
        )}
        {shows.stop && (
          <GuardedButton reason={opBlocker} onClick={() => setConfirm('stop')}>
            Stop
          </GuardedButton>
        )}
        <GuardedButton reason={opBlocker} onClick={() => setConfirm('restart')}>
          Restart
        </GuardedButton>
        <GuardedButton reason={p.credentialsBlocker} onClick={p.onCredentials} className="primary">
          API Credentials
        </GuardedButton>
        <GuardedButton reason={p.project ? null : 'Select a project first'} onClick={p.onSettings}>
          Settings
        </GuardedButton>
        <button type="button" className="link-button" onClick={p.onSignOut}>
          Sign out
        </button>
      </div>
      {dep.error && (
        <p className="error topbar__error" role="alert">
          {dep.error}
        </p>
      )}
      {confirm && (
        <Confirm
          title={confirm === 'stop' ? 'Stop the deployment?' : 'Restart the deployment?'}
          message={
            confirm === 'stop'
              ? `${p.project}/${p.branch} stops answering REST and SQL requests until it is started again.`
              : `${p.project}/${p.branch} reloads its model from the branch head; the current version keeps answering until the new one is ready.`
          }
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const op = confirm;
            setConfirm(null);
            void dep.run(op);
          }}
        />
      )}
    </header>
  );
}
