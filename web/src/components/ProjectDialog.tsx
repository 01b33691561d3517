// New project and Settings: the project form (POST or PATCH) and, in Settings, the selected
// branch's security settings (GET/PUT .../security).

import { useEffect, useId, useState, type ReactNode } from 'react';
import type { AdminClient, Environment, Project } from '../api';
import {
  createBody,
  emptyForm,
  formOf,
  securityBody,
  securityFormOf,
  updateBody,
  validate,
  validateSecurity,
  type FormErrors,
  type ProjectForm,
  type SecurityErrors,
  type SecurityForm,
} from '../projectForm';
import { Modal } from './Modal';

interface Props {
  client: AdminClient;
  /** null: a new project. */
  project: Project | null;
  branch: string;
  onClose: () => void;
  onSaved: (p: Project, isNew: boolean) => void | Promise<void>;
  onError: (e: unknown) => void;
}

/** Input is a labelled control with its inline message (aria-describedby, aria-invalid). */
function FieldBox({ label, error, hint, children }: { label: string; error?: string; hint?: string; children: (id: string, describedBy?: string) => ReactNode }) {
  const id = useId();
  const msg = `${id}-msg`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? msg : '', hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className="form-field">
      <label htmlFor={id}>{label}</label>
      {children(id, describedBy)}
      {hint && (
        <span id={hintId} className="hint">
          {hint}
        </span>
      )}
      {error && (
        <span id={msg} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}

export function ProjectDialog({ client, project, branch, onClose, onSaved, onError }: Props) {
  const isNew = project === null;
  const [form, setForm] = useState<ProjectForm>(() => (project ? formOf(project) : emptyForm));
  const [envs, setEnvs] = useState<Environment[] | null>(null);
  const [errors, setErrors] = useState<FormErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    client.environments().then(
      (es) => {
        setEnvs(es);
        setForm((f) => (f.environment === '' && es.length > 0 ? { ...f, environment: es.some((e) => e.name === 'demo') ? 'demo' : es[0].name } : f));
      },
      (e) => {
        onError(e);
        setServerError(`Could not list the environments: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }, [client, onError]);

  const set = <K extends keyof ProjectForm>(k: K, v: ProjectForm[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    if (errors[k]) setErrors((e) => ({ ...e, [k]: undefined }));
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const errs = validate(form, isNew);
    setErrors(errs);
    if (Object.keys(errs).length > 0) {
      // Move to the first field that needs fixing.
      (e.currentTarget as HTMLFormElement).querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      return;
    }
    setSaving(true);
    setServerError(null);
    try {
      const p = isNew ? await client.createProject(createBody(form)) : await client.updateProject(project.name, updateBody(form));
      await onSaved(p, isNew);
    } catch (err) {
      onError(err);
      setServerError(err instanceof Error ? err.message : String(err));
    } finally {
      setSaving(false);
    }
  };

  const title = isNew ? 'New project' : `Settings of ${project.name}`;
  const inv = (k: keyof ProjectForm) => (errors[k] ? ('true' as const) : undefined);

  return (
    <Modal title={title} onClose={onClose} className="form-dialog">
      <form onSubmit={submit} noValidate aria-label={isNew ? 'New project' : 'Project settings'}>
        <FieldBox label="Name" error={errors.name} hint={isNew ? "1–50 letters, digits, '-', '_' or '.'" : 'A project cannot be renamed.'}>
          {(id, d) => (
            <input id={id} value={form.name} onChange={(e) => set('name', e.target.value)} readOnly={!isNew} aria-invalid={inv('name')} aria-describedby={d} data-autofocus={isNew ? '' : undefined} />
          )}
        </FieldBox>
        <fieldset disabled={!isNew}>
          <legend>Repository</legend>
          <label className="inline">
            <input type="radio" name="repo" checked={form.repositoryType === 'managed'} onChange={() => set('repositoryType', 'managed')} /> Managed
          </label>
          <label className="inline">
            <input type="radio" name="repo" checked={form.repositoryType === 'imported'} onChange={() => set('repositoryType', 'imported')} /> Imported
          </label>
          {form.repositoryType === 'imported' && (
            <FieldBox label="Repository URL" error={errors.repositoryUrl}>
              {(id, d) => <input id={id} value={form.repositoryUrl} onChange={(e) => set('repositoryUrl', e.target.value)} aria-invalid={inv('repositoryUrl')} aria-describedby={d} placeholder="https://github.com/you/model.git" />}
            </FieldBox>
          )}
        </fieldset>
        <FieldBox label="Environment" error={errors.environment}>
          {(id, d) => (
            <select id={id} value={form.environment} onChange={(e) => set('environment', e.target.value)} aria-invalid={inv('environment')} aria-describedby={d}>
              <option value="">{envs === null ? 'Loading…' : 'Select an environment'}</option>
              {envs?.map((e) => (
                <option key={e.name} value={e.name}>
                  {e.name} ({e.type})
                </option>
              ))}
            </select>
          )}
        </FieldBox>
        <FieldBox label="Deployment mode">
          {(id) => (
            <select id={id} value={form.mode} onChange={(e) => set('mode', e.target.value as ProjectForm['mode'])}>
              <option value="always_on">Always on</option>
              <option value="on_demand">On demand</option>
              <option value="scheduled">Scheduled</option>
            </select>
          )}
        </FieldBox>
        {form.mode === 'on_demand' && (
          <FieldBox label="Idle timeout" error={errors.idleTimeout} hint="Stopped after this long without a request, e.g. 15m.">
            {(id, d) => <input id={id} value={form.idleTimeout} onChange={(e) => set('idleTimeout', e.target.value)} aria-invalid={inv('idleTimeout')} aria-describedby={d} />}
          </FieldBox>
        )}
        {form.mode === 'scheduled' && (
          <div className="form-row">
            <FieldBox label="Start cron" error={errors.scheduleStart}>
              {(id, d) => <input id={id} value={form.scheduleStart} onChange={(e) => set('scheduleStart', e.target.value)} aria-invalid={inv('scheduleStart')} aria-describedby={d} />}
            </FieldBox>
            <FieldBox label="End cron" error={errors.scheduleEnd}>
              {(id, d) => <input id={id} value={form.scheduleEnd} onChange={(e) => set('scheduleEnd', e.target.value)} aria-invalid={inv('scheduleEnd')} aria-describedby={d} />}
            </FieldBox>
            <FieldBox label="Time zone" error={errors.timezone}>
              {(id, d) => <input id={id} value={form.timezone} onChange={(e) => set('timezone', e.target.value)} aria-invalid={inv('timezone')} aria-describedby={d} placeholder="Europe/Berlin" />}
            </FieldBox>
          </div>
        )}
        <FieldBox label="Protected branches" error={errors.protectedBranches} hint="Comma separated; files cannot be written on them.">
          {(id, d) => <input id={id} value={form.protectedBranches} onChange={(e) => set('protectedBranches', e.target.value)} aria-invalid={inv('protectedBranches')} aria-describedby={d} />}
        </FieldBox>
        {serverError && (
          <p className="error" role="alert">
            {serverError}
          </p>
        )}
        <div className="buttons">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={saving}>
            {isNew ? 'Create project' : 'Save'}
          </button>
        </div>
      </form>
      {!isNew && branch && <SecuritySettings client={client} project={project.name} branch={branch} onError={onError} />}
    </Modal>
  );
}

function SecuritySettings({ client, project, branch, onError }: { client: AdminClient; project: string; branch: string; onError: (e: unknown) => void }) {
  const [form, setForm] = useState<SecurityForm | null>(null);
  const [errors, setErrors] = useState<SecurityErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [saved, setSaved] = useState('');

  useEffect(() => {
    client.security(project, branch).then(
      (s) => setForm(securityFormOf(s)),
      (e) => {
        onError(e);
        setServerError(`Could not read the security settings: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }, [client, project, branch, onError]);

  const set = (k: keyof SecurityForm, v: string) => {
    setForm((f) => (f ? { ...f, [k]: v } : f));
    setSaved('');
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!form) return;
    const errs = validateSecurity(form);
    setErrors(errs);
    if (Object.keys(errs).length > 0) return;
    setServerError(null);
    try {
      setForm(securityFormOf(await client.setSecurity(project, branch, securityBody(form))));
      setSaved('Security settings saved.');
    } catch (err) {
      onError(err);
      setServerError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <section className="security" aria-labelledby="security-title">
      <h3 id="security-title">Security of {branch}</h3>
      {!form && !serverError && <p>Loading…</p>}
      {form && (
        <form onSubmit={submit} noValidate aria-label="Security settings">
          <FieldBox label="IP allow-list" error={errors.ipAllowList} hint="Addresses or CIDRs, comma separated; empty allows every address.">
            {(id, d) => <input id={id} value={form.ipAllowList} onChange={(e) => set('ipAllowList', e.target.value)} aria-invalid={errors.ipAllowList ? 'true' : undefined} aria-describedby={d} />}
          </FieldBox>
          <div className="form-row">
            <FieldBox label="Requests per second" error={errors.requestsPerSecond} hint="0: no limit.">
              {(id, d) => <input id={id} inputMode="decimal" value={form.requestsPerSecond} onChange={(e) => set('requestsPerSecond', e.target.value)} aria-invalid={errors.requestsPerSecond ? 'true' : undefined} aria-describedby={d} />}
            </FieldBox>
            <FieldBox label="Burst" error={errors.burst}>
              {(id, d) => <input id={id} inputMode="numeric" value={form.burst} onChange={(e) => set('burst', e.target.value)} aria-invalid={errors.burst ? 'true' : undefined} aria-describedby={d} />}
            </FieldBox>
            <FieldBox label="Token lifetime" error={errors.tokenLifetime} hint="e.g. 720h; empty: the default (30 days).">
              {(id, d) => <input id={id} value={form.tokenLifetime} onChange={(e) => set('tokenLifetime', e.target.value)} aria-invalid={errors.tokenLifetime ? 'true' : undefined} aria-describedby={d} />}
            </FieldBox>
          </div>
          <div className="buttons">
            <button type="submit">Save security settings</button>
            <span aria-live="polite">{saved}</span>
          </div>
        </form>
      )}
      {serverError && (
        <p className="error" role="alert">
          {serverError}
        </p>
      )}
    </section>
  );
}
