// React hooks over the API client: the deployment's status (polled), its lifecycle
// operations, and the credentials.

import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type AdminClient, type Credentials, type DeploymentStatus } from './api';

export type Operation = 'start' | 'stop' | 'restart';

export interface Deployment {
  /** The status to show: PENDING while a start or restart runs. */
  status: DeploymentStatus | null;
  /** The last status the server answered, without the PENDING shown during an operation. */
  raw: DeploymentStatus | null;
  busy: Operation | null;
  error: string | null;
  run: (op: Operation) => Promise<DeploymentStatus | null>;
  refresh: () => void;
}

const SLOW_MS = 5000;
const FAST_MS = 1000;

/**
 * useDeployment polls GET .../status: every second while an operation runs or the state is
 * PENDING (start, stop and restart answer only when done), every five seconds otherwise.
 */
export function useDeployment(client: AdminClient, project: string, branch: string, onError: (e: unknown) => void): Deployment {
  const [status, setStatus] = useState<DeploymentStatus | null>(null);
  const [busy, setBusy] = useState<Operation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = `${project}\u0000${branch}`;
  const keyRef = useRef(key);
  keyRef.current = key;
  const fast = useRef(false);
  fast.current = busy !== null || status?.state === 'PENDING';
  const last = useRef(0);
  const onErr = useRef(onError);
  onErr.current = onError;

  const poll = useCallback(async () => {
    if (!project || !branch) return;
    const k = `${project}\u0000${branch}`;
    last.current = Date.now();
    try {
      const s = await client.status(project, branch);
      if (keyRef.current === k) setStatus(s);
    } catch (e) {
      if (keyRef.current === k) onErr.current(e);
    }
  }, [client, project, branch]);

  useEffect(() => {
    setStatus(null);
    setError(null);
    if (!project || !branch) return;
    void poll();
    const t = window.setInterval(() => {
      if (Date.now() - last.current >= (fast.current ? FAST_MS : SLOW_MS) - 50) void poll();
    }, FAST_MS);
    return () => window.clearInterval(t);
  }, [poll, project, branch]);

  const run = useCallback(
    async (op: Operation) => {
      const k = `${project}\u0000${branch}`;
      setBusy(op);
      setError(null);
      try {
        const s = await client.lifecycle(project, branch, op);
        if (keyRef.current === k) setStatus(s);
        return s;
      } catch (e) {
        if (keyRef.current !== k) return null;
        if (e instanceof ApiError && e.deployment) setStatus(e.deployment);
        if (e instanceof ApiError && e.status === 401) onErr.current(e);
        setError(`${op} failed: ${e instanceof Error ? e.message : String(e)}`);
        return null;
      } finally {
        if (keyRef.current === k) setBusy(null);
        void poll();
      }
    },
    [client, project, branch, poll],
  );

  const shown: DeploymentStatus | null =
    busy === 'start' || busy === 'restart'
      ? { ...(status ?? { since: null, heartbeat_at: null, version: '', serving_version: '', serving_previous: false }), state: 'PENDING', error: '' }
      : status;
  return { status: shown, raw: status, busy, error, run, refresh: () => void poll() };
}

/** useCredentials fetches the deployment's credentials while enabled (RUNNING). */
export function useCredentials(client: AdminClient, project: string, branch: string, enabled: boolean, onError: (e: unknown) => void) {
  const [creds, setCreds] = useState<Credentials | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onErr = useRef(onError);
  onErr.current = onError;
  useEffect(() => {
    setCreds(null);
    setError(null);
    if (!enabled || !project || !branch) return;
    let live = true;
    client.credentials(project, branch).then(
      (c) => live && setCreds(c),
      (e) => {
        if (!live) return;
        onErr.current(e);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => {
      live = false;
    };
  }, [client, project, branch, enabled]);
  return { creds, setCreds, error };
}
