// Why an action is not available yet: the reasons the UI shows in tooltips and beside the
// Playground. Pure functions of the selection and the deployment's state.

import type { DeploymentState } from './api';

export interface Selection {
  project: string;
  branch: string;
  /** The deployment's state, or null while it is not known. */
  state: DeploymentState | null;
}

/** credentialsBlocker is why API Credentials cannot open, or null when it can. */
export function credentialsBlocker(s: Selection): string | null {
  if (!s.project) return 'Select a project first';
  if (!s.branch) return 'Select a branch first';
  switch (s.state) {
    case 'RUNNING':
      return null;
    case null:
      return 'Waiting for the deployment status';
    case 'PENDING':
      return 'The deployment is PENDING: wait until it is RUNNING to see its credentials';
    case 'STOPPED':
      return 'The deployment is STOPPED: start it to see its credentials';
    case 'ERROR':
      return 'The deployment is in ERROR: fix the error and restart it to see its credentials';
  }
}

/** playgroundBlocker is why the Playground cannot query, or null when it can. */
export function playgroundBlocker(s: Selection): string | null {
  const r = credentialsBlocker(s);
  if (r === null) return null;
  if (!s.project || !s.branch) return r;
  return `The Playground needs the deployment RUNNING. ${r.replace(/ to see its credentials$/, '')}.`;
}

/** lifecycleBlocker is why Start, Stop or Restart cannot run, or null when it can. */
export function lifecycleBlocker(s: Selection, busy: boolean): string | null {
  if (!s.project) return 'Select a project first';
  if (!s.branch) return 'Select a branch first';
  if (busy) return 'Wait for the current operation to finish';
  return null;
}

/** Which of Start and Stop the header shows for a state. */
export function lifecycleButtons(state: DeploymentState | null): { start: boolean; stop: boolean } {
  return {
    start: state === 'STOPPED' || state === 'ERROR',
    stop: state === 'RUNNING' || state === 'PENDING',
  };
}
