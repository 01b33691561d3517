// The New project / Settings form: its fields as typed, the client-side checks (the server
// checks again and its 400 message is shown beside the form), and the request body.

import type { DeploymentConfig, Project, ProjectInput, SecuritySettings } from './api';

export type Mode = DeploymentConfig['mode'];

export interface ProjectForm {
  name: string;
  repositoryType: 'managed' | 'imported';
  repositoryUrl: string;
  environment: string;
  mode: Mode;
  idleTimeout: string;
  scheduleStart: string;
  scheduleEnd: string;
  timezone: string;
  protectedBranches: string;
}

export type FormErrors = Partial<Record<keyof ProjectForm, string>>;

export const emptyForm: ProjectForm = {
  name: '',
  repositoryType: 'managed',
  repositoryUrl: '',
  environment: '',
  mode: 'always_on',
  idleTimeout: '15m',
  scheduleStart: '0 8 * * 1-5',
  scheduleEnd: '0 20 * * 1-5',
  timezone: 'UTC',
  protectedBranches: '',
};

export const namePattern = /^[A-Za-z0-9_.-]{1,50}$/;
const durationPattern = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** cronFields checks a five-field cron expression's shape (the server checks the values). */
export function isCron(s: string): boolean {
  const f = s.trim().split(/\s+/);
  return f.length === 5 && f.every((x) => /^[\d*,/\-A-Za-z?]+$/.test(x));
}

export function splitList(s: string): string[] {
  return s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** validate returns the inline messages, keyed by field; an empty object means it may be sent. */
export function validate(f: ProjectForm, isNew: boolean): FormErrors {
  const e: FormErrors = {};
  if (isNew) {
    if (f.name.length === 0) e.name = 'The name is required.';
    else if (f.name.length > 50) e.name = 'The name is at most 50 characters.';
    else if (!namePattern.test(f.name)) e.name = "Use letters, digits, '-', '_' and '.' only.";
    if (f.repositoryType === 'imported') {
      const u = f.repositoryUrl.trim();
      if (u === '') e.repositoryUrl = 'An imported repository needs its URL.';
      else if (!/^(https?:\/\/|ssh:\/\/|git@|file:\/\/|\/)/.test(u)) e.repositoryUrl = 'Give an https://, ssh://, git@ or file:// URL.';
    }
  }
  if (f.environment === '') e.environment = 'Pick an environment.';
  if (f.mode === 'on_demand' && !durationPattern.test(f.idleTimeout.trim())) {
    e.idleTimeout = 'A duration such as 15m or 1h30m.';
  }
  if (f.mode === 'scheduled') {
    if (!isCron(f.scheduleStart)) e.scheduleStart = 'Five cron fields, e.g. 0 8 * * 1-5.';
    if (!isCron(f.scheduleEnd)) e.scheduleEnd = 'Five cron fields, e.g. 0 20 * * 1-5.';
    if (f.timezone.trim() === '') e.timezone = 'A time zone such as Europe/Berlin or UTC.';
  }
  const bad = splitList(f.protectedBranches).find((b) => /\s/.test(b));
  if (bad !== undefined) e.protectedBranches = `"${bad}" is not a branch name.`;
  return e;
}

export function deploymentOf(f: ProjectForm): DeploymentConfig {
  switch (f.mode) {
    case 'always_on':
      return { mode: 'always_on' };
    case 'on_demand':
      return { mode: 'on_demand', idle_timeout: f.idleTimeout.trim() };
    case 'scheduled':
      return {
        mode: 'scheduled',
        schedule: [{ start: f.scheduleStart.trim(), end: f.scheduleEnd.trim() }],
        timezone: f.timezone.trim(),
      };
  }
}

/** createBody is the POST /api/v1/projects body. */
export function createBody(f: ProjectForm): ProjectInput {
  return {
    name: f.name,
    repository: f.repositoryType === 'managed' ? { type: 'managed' } : { type: 'imported', url: f.repositoryUrl.trim() },
    environment: f.environment,
    deployment: deploymentOf(f),
    protected_branches: splitList(f.protectedBranches),
  };
}

/** updateBody is the PATCH body: a project's name and repository cannot change. */
export function updateBody(f: ProjectForm): ProjectInput {
  return { environment: f.environment, deployment: deploymentOf(f), protected_branches: splitList(f.protectedBranches) };
}

/** formOf fills the form from a project (Settings). */
export function formOf(p: Project): ProjectForm {
  const f: ProjectForm = {
    ...emptyForm,
    name: p.name,
    repositoryType: p.repository.type,
    repositoryUrl: p.repository.url ?? '',
    environment: p.environment,
    mode: p.deployment?.mode ?? 'always_on',
    protectedBranches: (p.protected_branches ?? []).join(', '),
  };
  const d = p.deployment;
  if (d?.mode === 'on_demand' && d.idle_timeout) f.idleTimeout = d.idle_timeout;
  if (d?.mode === 'scheduled') {
    if (d.schedule?.[0]) {
      f.scheduleStart = d.schedule[0].start;
      f.scheduleEnd = d.schedule[0].end;
    }
    f.timezone = d.timezone ?? 'UTC';
  }
  return f;
}

export interface SecurityForm {
  ipAllowList: string;
  requestsPerSecond: string;
  burst: string;
  tokenLifetime: string;
}

export function securityFormOf(s: SecuritySettings): SecurityForm {
  return {
    ipAllowList: (s.ip_allow_list ?? []).join(', '),
    requestsPerSecond: String(s.rate_limit?.requests_per_second ?? 0),
    burst: String(s.rate_limit?.burst ?? 0),
    tokenLifetime: s.token_lifetime ?? '',
  };
}

export type SecurityErrors = Partial<Record<keyof SecurityForm, string>>;

export function validateSecurity(f: SecurityForm): SecurityErrors {
  const e: SecurityErrors = {};
  const bad = splitList(f.ipAllowList).find((c) => !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(c));
  if (bad !== undefined) e.ipAllowList = `"${bad}" is not an address or CIDR (e.g. 10.0.0.0/8).`;
  if (!/^\d+(\.\d+)?$/.test(f.requestsPerSecond.trim())) e.requestsPerSecond = 'A number, 0 for no limit.';
  if (!/^\d+$/.test(f.burst.trim())) e.burst = 'A whole number, 0 for no limit.';
  if (f.tokenLifetime.trim() !== '' && !durationPattern.test(f.tokenLifetime.trim())) e.tokenLifetime = 'A duration such as 720h; empty for the default.';
  return e;
}

export function securityBody(f: SecurityForm): SecuritySettings {
  return {
    ip_allow_list: splitList(f.ipAllowList),
    rate_limit: { requests_per_second: Number(f.requestsPerSecond), burst: Number.parseInt(f.burst, 10) },
    token_lifetime: f.tokenLifetime.trim(),
  };
}
