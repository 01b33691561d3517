// Ready-to-paste commands and code for a deployment: psql for the SQL API, curl, Python
// (requests) and JavaScript (fetch) for the REST API. Pure functions of the values: the UI
// passes the real values for copying and masked ones for showing.

import type { CubeQuery, Meta, MetaCube } from './api';

/** shellQuote quotes s for a POSIX shell: single quotes, each ' written as '\''. */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** doubleQuote quotes s inside double quotes for a POSIX shell, escaping \ " $ and `. */
export function doubleQuote(s: string): string {
  return `"${s.replace(/[\\"$`]/g, (c) => '\\' + c)}"`;
}

/** psqlCommand is `psql "<connection string>"`, as the docs print it. */
export function psqlCommand(connectionString: string): string {
  return `psql ${doubleQuote(connectionString)}`;
}

/** loadURL is the deployment's /load endpoint. */
export function loadURL(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '') + '/load';
}

/** curlLoad POSTs the query to /load. */
export function curlLoad(baseUrl: string, token: string, query: CubeQuery): string {
  return [
    `curl -sS -X POST ${shellQuote(loadURL(baseUrl))}`,
    `  -H ${shellQuote(`Authorization: Bearer ${token}`)}`,
    `  -H ${shellQuote('Content-Type: application/json')}`,
    `  --data-raw ${shellQuote(JSON.stringify({ query }))}`,
  ].join(' \\\n');
}

/** pyLiteral writes a JSON value as a Python literal (True, False, None; JSON's string escapes are Python's). */
export function pyLiteral(v: unknown, indent = 0): string {
  const pad = '    '.repeat(indent + 1);
  const end = '    '.repeat(indent);
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'None';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (v.every((x) => typeof x !== 'object' || x === null)) return `[${v.map((x) => pyLiteral(x)).join(', ')}]`;
    return `[\n${v.map((x) => pad + pyLiteral(x, indent + 1)).join(',\n')},\n${end}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${pyLiteral(x, indent + 1)}`).join(',\n')},\n${end}}`;
}

/** pythonLoad runs the query with requests and prints the rows. */
export function pythonLoad(baseUrl: string, token: string, query: CubeQuery): string {
  return [
    'import requests',
    '',
    'response = requests.post(',
    `    ${JSON.stringify(loadURL(baseUrl))},`,
    `    headers={"Authorization": ${JSON.stringify(`Bearer ${token}`)}},`,
    `    json={"query": ${pyLiteral(query, 1)}},`,
    ')',
    'response.raise_for_status()',
    'print(response.json()["data"])',
    '',
  ].join('\n');
}

/** javascriptLoad runs the query with fetch and logs the rows. */
export function javascriptLoad(baseUrl: string, token: string, query: CubeQuery): string {
  const q = JSON.stringify(query, null, 2).replace(/\n/g, '\n  ');
  return [
    `const response = await fetch(${JSON.stringify(loadURL(baseUrl))}, {`,
    `  method: "POST",`,
    `  headers: {`,
    `    Authorization: ${JSON.stringify(`Bearer ${token}`)},`,
    `    "Content-Type": "application/json",`,
    `  },`,
    `  body: JSON.stringify({`,
    `    query: ${q.replace(/\n/g, '\n  ')},`,
    `  }),`,
    `});`,
    'if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);',
    'const { data } = await response.json();',
    'console.log(data);',
    '',
  ].join('\n');
}

function visible<T extends { isVisible?: boolean }>(xs: T[]): T[] {
  return xs.filter((x) => x.isVisible !== false);
}

/**
 * sampleQuery is the query the snippets run: orders.count when the model has it, else the first
 * measure, grouped by the first string dimension of the same cube that is not its key.
 */
export function sampleQuery(meta: Meta | null | undefined): CubeQuery {
  const cubes = meta?.cubes ?? [];
  let cube: MetaCube | undefined = cubes.find((c) => visible(c.measures).some((m) => m.name === 'orders.count'));
  let measure = cube ? 'orders.count' : undefined;
  if (!cube) {
    cube = cubes.find((c) => visible(c.measures).length > 0);
    measure = cube ? visible(cube.measures)[0].name : undefined;
  }
  if (!cube || !measure) return { measures: [], limit: 100 };
  const dim = visible(cube.dimensions).find((d) => d.type === 'string' && !d.primaryKey);
  return dim ? { measures: [measure], dimensions: [dim.name] } : { measures: [measure] };
}

/** mask replaces a secret with bullets, keeping a recognisable prefix (cbt_ for tokens). */
export function mask(secret: string): string {
  if (secret === '') return '';
  const keep = secret.startsWith('cbt_') ? 4 : 0;
  return secret.slice(0, keep) + '•'.repeat(Math.max(8, Math.min(24, secret.length - keep)));
}

/** maskConnectionString masks the password inside a postgresql:// URL. */
export function maskConnectionString(cs: string, password: string): string {
  if (password === '') return cs;
  return cs.split(encodeURIComponent(password)).join(mask(password)).split(password).join(mask(password));
}
