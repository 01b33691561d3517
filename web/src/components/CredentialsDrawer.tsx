// The API Credentials drawer: the SQL and REST credentials of the selected deployment, copy
// buttons, ready-to-paste commands filled with the real values, Restart and Rotate.

import { useEffect, useState } from 'react';
import { DeploymentClient, type AdminClient, type CubeQuery } from '../api';
import type { Deployment } from '../hooks';
import { useCredentials } from '../hooks';
import { curlLoad, javascriptLoad, mask, maskConnectionString, psqlCommand, pythonLoad, sampleQuery } from '../snippets';
import { CopyButton } from './CopyButton';
import { Confirm, Modal } from './Modal';
import { StatusBadge } from './StatusBadge';

interface Props {
  client: AdminClient;
  project: string;
  branch: string;
  deployment: Deployment;
  onClose: () => void;
  onError: (e: unknown) => void;
}

function Field({ label, shown, copy, what }: { label: string; shown: string; copy: string; what: string }) {
  const slug = what.replace(/\s+/g, '-');
  return (
    <div className="field-row">
      <span className="field-row__label" id={`cred-${slug}`}>
        {label}
      </span>
      <code className="field-row__value" data-field={slug}>
        {shown}
      </code>
      <CopyButton what={what} text={copy} />
    </div>
  );
}

function Snippet({ title, shown, copy, what }: { title: string; shown: string; copy: string; what: string }) {
  return (
    <figure className="snippet">
      <figcaption>
        <span>{title}</span>
        <CopyButton what={what} text={copy} />
      </figcaption>
      <pre tabIndex={0} aria-label={title}>
        {shown}
      </pre>
    </figure>
  );
}

type Pending = null | 'restart' | 'rotate-sql' | 'rotate-rest';

export function CredentialsDrawer({ client, project, branch, deployment, onClose, onError }: Props) {
  const live = deployment.raw?.state === 'RUNNING' || deployment.busy === 'restart';
  const { creds, setCreds, error } = useCredentials(client, project, branch, live, onError);
  const [showPassword, setShowPassword] = useState(false);
  const [showToken, setShowToken] = useState(false);
  const [confirm, setConfirm] = useState<Pending>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [rotating, setRotating] = useState(false);
  const [notice, setNotice] = useState('');
  const [query, setQuery] = useState<CubeQuery>({ measures: ['orders.count'], dimensions: ['orders.status'] });

  // The snippets run the deployment's own first measure (orders.count when there is one).
  const baseUrl = creds?.rest.base_url;
  const restToken = creds?.rest.token;
  useEffect(() => {
    if (!baseUrl || !restToken) return;
    let on = true;
    new DeploymentClient(baseUrl, restToken).meta().then(
      (m) => on && setQuery(sampleQuery(m)),
      () => undefined, // The snippets keep the default query.
    );
    return () => {
      on = false;
    };
  }, [baseUrl, restToken]);

  const rotate = async (which: 'sql' | 'rest') => {
    setRotating(true);
    setActionError(null);
    try {
      const c = await client.rotate(project, branch, which === 'sql' ? { sql: true, rest: false } : { sql: false, rest: true });
      setCreds(c);
      setNotice(which === 'sql' ? 'The SQL password was rotated: the old one no longer works.' : 'The REST token was rotated: the old one no longer works.');
    } catch (e) {
      onError(e);
      setActionError(`Rotation failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setRotating(false);
    }
  };

  const sql = creds?.sql;
  const rest = creds?.rest;
  const shownConn = sql ? (showPassword ? sql.connection_string : maskConnectionString(sql.connection_string, sql.password)) : '';
  const shownToken = rest ? (showToken ? rest.token : mask(rest.token)) : '';

  return (
    <Modal title="API credentials" label="API credentials" variant="drawer" onClose={onClose}>
      <div className="drawer__status">
        <span>
          {project} / {branch}
        </span>
        <StatusBadge status={deployment.status} />
        <button type="button" onClick={() => setConfirm('restart')} disabled={deployment.busy !== null}>
          Restart
        </button>
      </div>
      {deployment.error && (
        <p className="error" role="alert">
          {deployment.error}
        </p>
      )}
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      <p className="notice" aria-live="polite">
        {notice}
      </p>
      {error && !creds && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!creds && !error && <p>Loading the credentials…</p>}
      {sql && rest && (
        <>
          <section aria-labelledby="sql-api-title" className="cred-section">
            <h3 id="sql-api-title">SQL API</h3>
            <Field label="Connection string" what="connection string" shown={shownConn} copy={sql.connection_string} />
            <Field label="Host" what="host" shown={sql.host} copy={sql.host} />
            <Field label="Port" what="port" shown={String(sql.port)} copy={String(sql.port)} />
            <Field label="Database" what="database" shown={sql.database} copy={sql.database} />
            <Field label="Username" what="username" shown={sql.username} copy={sql.username} />
            <Field label="Password" what="password" shown={showPassword ? sql.password : mask(sql.password)} copy={sql.password} />
            <div className="buttons">
              <button type="button" aria-pressed={showPassword} onClick={() => setShowPassword((v) => !v)}>
                {showPassword ? 'Hide password' : 'Reveal password'}
              </button>
              <button type="button" onClick={() => setConfirm('rotate-sql')} disabled={rotating}>
                Rotate SQL password
              </button>
            </div>
            <Snippet title="psql" what="psql command" shown={psqlCommand(shownConn)} copy={psqlCommand(sql.connection_string)} />
          </section>
          <section aria-labelledby="rest-api-title" className="cred-section">
            <h3 id="rest-api-title">REST API</h3>
            <Field label="Base URL" what="base URL" shown={rest.base_url} copy={rest.base_url} />
            <Field label="Token" what="token" shown={shownToken} copy={rest.token} />
            <p className="hint">Expires {new Date(rest.expires_at).toLocaleString()}.</p>
            <div className="buttons">
              <button type="button" aria-pressed={showToken} onClick={() => setShowToken((v) => !v)}>
                {showToken ? 'Hide token' : 'Reveal token'}
              </button>
              <button type="button" onClick={() => setConfirm('rotate-rest')} disabled={rotating}>
                Rotate REST token
              </button>
            </div>
            <Snippet title="curl" what="curl command" shown={curlLoad(rest.base_url, shownToken, query)} copy={curlLoad(rest.base_url, rest.token, query)} />
            <Snippet title="Python" what="Python snippet" shown={pythonLoad(rest.base_url, shownToken, query)} copy={pythonLoad(rest.base_url, rest.token, query)} />
            <Snippet
              title="JavaScript"
              what="JavaScript snippet"
              shown={javascriptLoad(rest.base_url, shownToken, query)}
              copy={javascriptLoad(rest.base_url, rest.token, query)}
            />
          </section>
        </>
      )}
      {confirm && (
        <Confirm
          title={confirm === 'restart' ? 'Restart the deployment?' : confirm === 'rotate-sql' ? 'Rotate the SQL password?' : 'Rotate the REST token?'}
          message={
            confirm === 'restart'
              ? 'The model reloads from the branch head; the current version keeps answering until the new one is ready.'
              : 'The old one stops working at once; clients that use it must take the new one.'
          }
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const c = confirm;
            setConfirm(null);
            if (c === 'restart') void deployment.run('restart');
            else void rotate(c === 'rotate-sql' ? 'sql' : 'rest');
          }}
        />
      )}
    </Modal>
  );
}
