// App: sign-in, then the Metrics Store page: the header (project, branch, status, actions)
// and the views (Overview, Playground, Files) chosen by the URL's hash.

import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { AdminClient, ApiError, type Branch, type Project } from '../api';
import { credentialsBlocker, playgroundBlocker } from '../access';
import { useDeployment } from '../hooks';
import { formatRoute, parseRoute, tokenFromHash, type Route, type View } from '../route';
import { CredentialsDrawer } from './CredentialsDrawer';
import { FilesView } from './FilesView';
import { Header } from './Header';
import { Overview } from './Overview';
import { ProjectDialog } from './ProjectDialog';
import { SignIn } from './SignIn';

// The Playground carries Chart.js: it loads when first shown, not with the page.
const Playground = lazy(() => import('./Playground'));

const TOKEN_KEY = 'cubit.adminToken';

/** takeTokenFromURL stores a #token=<t> once and removes it from the address bar. */
function takeTokenFromURL(): void {
  const t = tokenFromHash(window.location.hash);
  if (t === null) return;
  sessionStorage.setItem(TOKEN_KEY, t);
  history.replaceState(null, '', window.location.pathname + window.location.search + '#/');
}

function useRoute(): [Route, (r: Partial<Route>, replace?: boolean) => void] {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const go = useCallback((patch: Partial<Route>, replace = false) => {
    setRoute((cur) => {
      const next = { ...cur, ...patch };
      const hash = formatRoute(next);
      if (hash !== window.location.hash) {
        if (replace) history.replaceState(null, '', hash);
        else history.pushState(null, '', hash);
      }
      return next;
    });
  }, []);
  return [route, go];
}

export function App() {
  const [token, setToken] = useState<string | null>(() => {
    takeTokenFromURL();
    return sessionStorage.getItem(TOKEN_KEY);
  });
  const [signInError, setSignInError] = useState<string | null>(null);

  const signOut = useCallback((reason: string | null) => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setSignInError(reason);
  }, []);

  const signIn = useCallback(async (t: string) => {
    try {
      await new AdminClient(t).whoami();
    } catch (e) {
      setSignInError(e instanceof ApiError && e.status === 401 ? `Sign-in refused: ${e.message}` : `Sign-in failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, t);
    setSignInError(null);
    setToken(t);
  }, []);

  if (!token) return <SignIn onSignIn={signIn} error={signInError} />;
  return <MetricsStore key={token} token={token} onSignOut={signOut} />;
}

type DialogState = null | 'new' | 'settings' | 'credentials';

function MetricsStore({ token, onSignOut }: { token: string; onSignOut: (reason: string | null) => void }) {
  const client = useMemo(() => new AdminClient(token), [token]);
  const [route, go] = useRoute();
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [branches, setBranches] = useState<Branch[] | null>(null);
  const [pageError, setPageError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<DialogState>(null);

  // Any 401 means the admin token no longer works: back to the sign-in form, with the reason.
  const onError = useCallback(
    (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) onSignOut(`Signed out: ${e.message}`);
    },
    [onSignOut],
  );

  const loadProjects = useCallback(async () => {
    try {
      setProjects(await client.projects());
      setPageError(null);
    } catch (e) {
      onError(e);
      setPageError(`Could not list the projects: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, [client, onError]);

  useEffect(() => {
    void loadProjects();
  }, [loadProjects]);

  const project = route.project;
  const branch = route.branch;
  const current = projects?.find((p) => p.name === project) ?? null;

  useEffect(() => {
    setBranches(null);
    if (!project) return;
    let live = true;
    client.branches(project).then(
      (bs) => {
        if (!live) return;
        setBranches(bs);
        // A project's main branch is the usual choice: select it when none is.
        if (!branch && bs.some((b) => b.name === 'main')) go({ branch: 'main' }, true);
      },
      (e) => {
        if (!live) return;
        onError(e);
        setPageError(`Could not list the branches of ${project}: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    return () => {
      live = false;
    };
    // The branch is read only to decide whether to pick main; changing it must not reload.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, project, go, onError]);

  const dep = useDeployment(client, project, branch, onError);
  const selection = { project, branch, state: dep.status?.state ?? null };
  const credsBlocker = credentialsBlocker(selection);

  // The drawer closes itself if the deployment stops being RUNNING for other reasons than its own restart.
  useEffect(() => {
    if (dialog === 'credentials' && credsBlocker !== null && dep.busy !== 'restart' && dep.raw?.state !== 'RUNNING') setDialog(null);
  }, [dialog, credsBlocker, dep.busy, dep.raw?.state]);

  const setView = (view: View) => go({ view });

  return (
    <div className="app">
      <Header
        projects={projects}
        branches={branches}
        project={project}
        branch={branch}
        deployment={dep}
        credentialsBlocker={credsBlocker}
        onProject={(p) => go({ project: p, branch: '', file: '' })}
        onBranch={(b) => go({ branch: b, file: '' })}
        onNewProject={() => setDialog('new')}
        onSettings={() => setDialog('settings')}
        onCredentials={() => setDialog('credentials')}
        onSignOut={() => onSignOut(null)}
      />
      <nav className="views" aria-label="Views">
        {(['overview', 'playground', 'files'] as const).map((v) => (
          <a
            key={v}
            href={formatRoute({ ...route, view: v })}
            aria-current={route.view === v ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              setView(v);
            }}
          >
            {v === 'overview' ? 'Overview' : v === 'playground' ? 'Playground' : 'Files'}
          </a>
        ))}
      </nav>
      <main className="content">
        {pageError && (
          <p className="error" role="alert">
            {pageError}
          </p>
        )}
        {route.view === 'overview' && <Overview projects={projects} project={current} branch={branch} deployment={dep} />}
        {route.view === 'playground' && (
          <Suspense fallback={<p>Loading the Playground…</p>}>
            <Playground client={client} project={project} branch={branch} blocker={playgroundBlocker(selection)} onError={onError} />
          </Suspense>
        )}
        {route.view === 'files' && (
          <FilesView client={client} project={project} branch={branch} file={route.file} onFile={(f) => go({ file: f })} onError={onError} />
        )}
      </main>
      {dialog === 'credentials' && (
        <CredentialsDrawer client={client} project={project} branch={branch} deployment={dep} onClose={() => setDialog(null)} onError={onError} />
      )}
      {(dialog === 'new' || (dialog === 'settings' && current)) && (
        <ProjectDialog
          client={client}
          project={dialog === 'settings' ? current : null}
          branch={branch}
          onClose={() => setDialog(null)}
          onError={onError}
          onSaved={async (p, isNew) => {
            await loadProjects();
            if (isNew) go({ project: p.name, branch: 'main', file: '' });
            setDialog(null);
            dep.refresh();
          }}
        />
      )}
    </div>
  );
}
