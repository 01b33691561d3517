// Typed clients of the two HTTP APIs the UI talks to: the admin API (/api/v1, with the admin
// token) and a deployment's REST API (its base URL, with the deployment's token). Both throw
// ApiError, which keeps the status and, for REST errors, the member the error names.

export type DeploymentState = 'PENDING' | 'RUNNING' | 'STOPPED' | 'ERROR';

export interface Environment {
  name: string;
  type: 'duckdb' | 'postgres';
  settings: Record<string, unknown>;
  secrets: string[];
}

export interface Repository {
  type: 'managed' | 'imported';
  url?: string;
}

export interface ScheduleWindow {
  start: string;
  end: string;
}

export type DeploymentConfig =
  | { mode: 'always_on' }
  | { mode: 'on_demand'; idle_timeout?: string }
  | { mode: 'scheduled'; schedule: ScheduleWindow[]; timezone?: string };

export interface Project {
  name: string;
  repository: Repository;
  environment: string;
  deployment: DeploymentConfig;
  protected_branches: string[];
  created_at?: string;
  updated_at?: string;
}

/** The body of POST /api/v1/projects; PATCH takes the same fields but the name and repository. */
export interface ProjectInput {
  name?: string;
  repository?: Repository;
  environment?: string;
  deployment?: DeploymentConfig;
  protected_branches?: string[];
}

export interface Branch {
  name: string;
  commit: string;
  time: string;
}

export interface DeploymentStatus {
  state: DeploymentState;
  since: string | null;
  heartbeat_at: string | null;
  version: string;
  error: string;
  serving_version: string;
  serving_previous: boolean;
}

export interface Credentials {
  sql: {
    host: string;
    port: number;
    database: string;
    username: string;
    password: string;
    connection_string: string;
  };
  rest: { base_url: string; token: string; expires_at: string };
}

export interface SecuritySettings {
  ip_allow_list: string[];
  rate_limit: { requests_per_second: number; burst: number };
  token_lifetime: string;
}

export interface Problem {
  file: string;
  line: number;
  message: string;
}

export interface Whoami {
  name: string;
  role: string;
}

/** An error answered by either API: the HTTP status, the message and, when named, the member. */
export class ApiError extends Error {
  readonly status: number;
  readonly member?: string;
  readonly type?: string;
  /** The deployment's status, which a failed start or restart carries beside its error. */
  readonly deployment?: DeploymentStatus;

  constructor(status: number, message: string, extra: { member?: string; type?: string; deployment?: DeploymentStatus } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.member = extra.member;
    this.type = extra.type;
    this.deployment = extra.deployment;
  }
}

type Fetch = typeof fetch;

async function request<T>(doFetch: Fetch, url: string, token: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await doFetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
  } catch (e) {
    throw new ApiError(0, `the server did not answer: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      if (!res.ok) throw new ApiError(res.status, text.trim() || res.statusText);
      throw new ApiError(res.status, `the server answered something that is not JSON: ${text.slice(0, 200)}`);
    }
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; member?: string; type?: string; status?: DeploymentStatus };
    throw new ApiError(res.status, b.error ?? `${res.status} ${res.statusText}`, {
      member: b.member,
      type: b.type,
      deployment: b.status,
    });
  }
  return body as T;
}

/** Path segments are percent-encoded: a branch named feature/x becomes feature%2Fx. */
const seg = encodeURIComponent;

/** AdminClient calls the admin API of the server the page came from. */
export class AdminClient {
  constructor(
    private readonly token: string,
    private readonly doFetch: Fetch = (...a) => fetch(...a),
    private readonly root = '/api/v1',
  ) {}

  private call<T>(path: string, init?: RequestInit): Promise<T> {
    return request<T>(this.doFetch, this.root + path, this.token, init);
  }

  private branch(project: string, branch: string): string {
    return `/projects/${seg(project)}/branches/${seg(branch)}`;
  }

  whoami(): Promise<Whoami> {
    return this.call('/whoami');
  }

  async environments(): Promise<Environment[]> {
    return (await this.call<{ environments: Environment[] }>('/environments')).environments;
  }

  async projects(): Promise<Project[]> {
    return (await this.call<{ projects: Project[] }>('/projects')).projects;
  }

  createProject(p: ProjectInput): Promise<Project> {
    return this.call('/projects', { method: 'POST', body: JSON.stringify(p) });
  }

  updateProject(name: string, p: ProjectInput): Promise<Project> {
    return this.call(`/projects/${seg(name)}`, { method: 'PATCH', body: JSON.stringify(p) });
  }

  async branches(project: string): Promise<Branch[]> {
    return (await this.call<{ branches: Branch[] }>(`/projects/${seg(project)}/branches`)).branches;
  }

  status(project: string, branch: string): Promise<DeploymentStatus> {
    return this.call(this.branch(project, branch) + '/status');
  }

  /** Start, stop or restart: the call returns when the operation is done, with the status. */
  lifecycle(project: string, branch: string, op: 'start' | 'stop' | 'restart'): Promise<DeploymentStatus> {
    return this.call(this.branch(project, branch) + '/' + op, { method: 'POST' });
  }

  credentials(project: string, branch: string): Promise<Credentials> {
    return this.call(this.branch(project, branch) + '/credentials');
  }

  rotate(project: string, branch: string, which: { sql?: boolean; rest?: boolean }): Promise<Credentials> {
    return this.call(this.branch(project, branch) + '/credentials/rotate', { method: 'POST', body: JSON.stringify(which) });
  }

  security(project: string, branch: string): Promise<SecuritySettings> {
    return this.call(this.branch(project, branch) + '/security');
  }

  setSecurity(project: string, branch: string, s: SecuritySettings): Promise<SecuritySettings> {
    return this.call(this.branch(project, branch) + '/security', { method: 'PUT', body: JSON.stringify(s) });
  }

  async files(project: string, branch: string, folder = 'model'): Promise<string[]> {
    const path = folder.split('/').map(seg).join('/');
    return (await this.call<{ files: string[] }>(this.branch(project, branch) + '/files/' + path)).files;
  }

  async file(project: string, branch: string, path: string): Promise<string> {
    const p = path.split('/').map(seg).join('/');
    return (await this.call<{ content: string }>(this.branch(project, branch) + '/files/' + p)).content;
  }

  async problems(project: string, branch: string): Promise<Problem[]> {
    return (await this.call<{ problems: Problem[] }>(this.branch(project, branch) + '/problems')).problems ?? [];
  }
}

// The deployment's REST API.

export interface MetaMember {
  name: string;
  title?: string;
  shortTitle?: string;
  type: string;
  isVisible?: boolean;
  primaryKey?: boolean;
  granularities?: { name: string; title?: string }[];
}

export interface MetaCube {
  name: string;
  title?: string;
  type: 'cube' | 'view';
  measures: MetaMember[];
  dimensions: MetaMember[];
  segments: MetaMember[];
}

export interface Meta {
  cubes: MetaCube[];
}

export type FilterOperator =
  | 'equals'
  | 'notEquals'
  | 'contains'
  | 'notContains'
  | 'startsWith'
  | 'endsWith'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'set'
  | 'notSet'
  | 'inDateRange'
  | 'notInDateRange'
  | 'beforeDate'
  | 'afterDate';

export interface CubeQuery {
  measures?: string[];
  dimensions?: string[];
  segments?: string[];
  timeDimensions?: { dimension: string; granularity?: string; dateRange?: string | [string, string] }[];
  filters?: { member: string; operator: FilterOperator; values?: string[] }[];
  order?: [string, 'asc' | 'desc'][];
  limit?: number;
}

export type Row = Record<string, string | number | boolean | null>;

export interface LoadResult {
  query: CubeQuery;
  data: Row[];
  annotation: {
    measures: Record<string, { title?: string; shortTitle?: string; type?: string }>;
    dimensions: Record<string, { title?: string; shortTitle?: string; type?: string }>;
    timeDimensions: Record<string, { title?: string; shortTitle?: string; type?: string }>;
  };
  truncated?: boolean;
}

export interface SqlResult {
  sql: { sql: [string, unknown[]] };
}

/**
 * deploymentPath turns a deployment's base URL into the path the browser fetches: the base URL
 * names the host the server was configured with, but the page talks to the server it came from
 * (the one the Content-Security-Policy allows), which serves the same paths.
 */
export function deploymentPath(baseUrl: string): string {
  try {
    return new URL(baseUrl).pathname.replace(/\/+$/, '');
  } catch {
    return baseUrl.replace(/\/+$/, '');
  }
}

/** DeploymentClient calls one deployment's REST API (Cube's endpoints) with its token. */
export class DeploymentClient {
  private readonly root: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly doFetch: Fetch = (...a) => fetch(...a),
  ) {
    this.root = deploymentPath(baseUrl);
  }

  meta(): Promise<Meta> {
    return request<Meta>(this.doFetch, this.root + '/meta', this.token);
  }

  /** load runs a query; a "Continue wait" answer is asked again until the result is ready. */
  async load(query: CubeQuery, signal?: AbortSignal): Promise<LoadResult> {
    for (;;) {
      const res = await request<LoadResult | { error: string }>(this.doFetch, this.root + '/load', this.token, {
        method: 'POST',
        body: JSON.stringify({ query }),
        signal,
      });
      if ('error' in res && res.error === 'Continue wait') continue;
      return res as LoadResult;
    }
  }

  sql(query: CubeQuery): Promise<SqlResult> {
    return request<SqlResult>(this.doFetch, this.root + '/sql?query=' + encodeURIComponent(JSON.stringify(query)), this.token);
  }
}
