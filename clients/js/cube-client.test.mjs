// Cube's own JavaScript client, @cubejs-client/core from npm, against a real `cubit serve`.
//
// The test builds nothing: it runs the binary named by CUBIT_BIN (default ../../bin/cubit,
// which `make test-js` builds) on the embedded demo, on a free loopback port, and talks to it
// only through the client's public API, as an application would.
//
//   cd clients/js && npm ci && node --test
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { accessSync, mkdtempSync, constants as fsConstants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import cube, { RequestError } from '@cubejs-client/core';

const here = dirname(fileURLToPath(import.meta.url));
const CUBIT_BIN = resolve(here, process.env.CUBIT_BIN || '../../bin/cubit');
const SECRET = 'cubit-js-client-test-secret';
const START_TIMEOUT_MS = 30_000;

// The documentation's first query (README, docs/query.md).
const DOC_QUERY = Object.freeze({
  measures: ['orders.total_revenue'],
  dimensions: ['orders.status'],
  timeDimensions: [
    { dimension: 'orders.created_at', granularity: 'day', dateRange: ['2024-01-01', '2024-01-31'] },
  ],
});

// binaryProblem says what is wrong with CUBIT_BIN, or returns null when it can be run.
function binaryProblem() {
  const hint =
    'build it with `make build` in the repository root (`make test-js` builds it and runs this test), ' +
    'or point CUBIT_BIN at a cubit binary';
  let st;
  try {
    st = statSync(CUBIT_BIN);
  } catch {
    return `cubit binary not found at ${CUBIT_BIN}: ${hint}`;
  }
  if (!st.isFile()) return `${CUBIT_BIN} is not a file: ${hint}`;
  try {
    accessSync(CUBIT_BIN, fsConstants.X_OK);
  } catch {
    return `${CUBIT_BIN} is not executable: ${hint}`;
  }
  return null;
}

function checkBinary() {
  const problem = binaryProblem();
  if (problem) throw new Error(problem);
}

async function freePort() {
  const srv = createServer();
  await new Promise((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

// The environment of the server: this process's, without Cube's variables, so that a
// developer's shell (CUBEJS_SCHEMA_PATH, PORT, …) cannot point the test at another model.
function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CUBEJS_') && !k.startsWith('CUBIT_') && k !== 'PORT') env[k] = v;
  }
  // The platform's state goes to a fresh directory, not the checkout's .cubit.
  const CUBIT_DATA_DIR = mkdtempSync(join(tmpdir(), 'cubit-js-'));
  return { ...env, CUBEJS_API_SECRET: SECRET, CUBIT_DATA_DIR, ...extra };
}

// Keeps the last bytes of a stream, for error messages.
function tail(stream, limit = 16_384) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf = (buf + chunk).slice(-limit);
  });
  return () => buf;
}

/**
 * Starts `cubit serve` on a free port and resolves once /readyz answers 200.
 * @returns {Promise<{apiUrl: string, stdout: () => string, stop: () => Promise<void>}>}
 */
async function startCubit(extraEnv = {}) {
  checkBinary();
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const child = spawn(CUBIT_BIN, ['serve', '--listen', listen], {
    env: serverEnv(extraEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = tail(child.stdout);
  const stderr = tail(child.stderr);
  let exited = null;
  const exitPromise = new Promise((ok) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      ok();
    }),
  );
  let spawnError = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  // A crashed test run must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${CUBIT_BIN}: ${spawnError.message}`);
    if (exited) {
      throw new Error(
        `cubit serve --listen ${listen} exited (${exited.signal ?? `code ${exited.code}`}) before it was ready:\n${stderr()}`,
      );
    }
    try {
      const res = await fetch(`http://${listen}/readyz`);
      if (res.status === 200) break;
      await res.body?.cancel();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cubit serve --listen ${listen} was not ready within ${START_TIMEOUT_MS} ms:\n${stderr()}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return { apiUrl: `http://${listen}/cubejs-api/v1`, stdout, stderr, stop };
}

async function mintToken(secret = SECRET) {
  checkBinary();
  const { stdout } = await promisify(execFile)(CUBIT_BIN, ['token', '--secret', secret], {
    env: serverEnv({}),
  });
  const token = stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `cubit token printed no JWT: ${JSON.stringify(stdout)}`);
  return token;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the promise resolved; want a rejection');
}

// Without the binary, one test fails with the reason and the suites are skipped, so the
// reason is the first thing the report shows rather than a hook error behind cancellations.
const missingBinary = binaryProblem();
test('the cubit binary is there', () => {
  if (missingBinary) assert.fail(missingBinary);
});
const needsBinary = { timeout: 120_000, skip: missingBinary ? 'no cubit binary (see the failure above)' : false };

describe('@cubejs-client/core against cubit serve (embedded demo)', needsBinary, () => {
  let server;
  let token;
  let api;

  before(async () => {
    server = await startCubit();
    token = await mintToken();
    api = cube(token, { apiUrl: server.apiUrl });
  });

  after(async () => {
    await server?.stop();
  });

  test('prints the REST base URL and a token that works', async () => {
    const out = server.stdout();
    assert.match(out, new RegExp(`REST API\\s+${server.apiUrl.replace(/[.]/g, '\\.')}\\s*$`, 'm'));
    const printed = out.match(/^\s*Token\s+(\S+)\s*$/m);
    assert.ok(printed, `no "Token" line on stdout:\n${out}`);
    const meta = await cube(printed[1], { apiUrl: server.apiUrl }).meta();
    assert.ok(Array.isArray(meta.meta.cubes));
  });

  test('load: the documentation query, tablePivot and chartPivot', async () => {
    const rs = await api.load(DOC_QUERY);

    const rows = rs.tablePivot();
    assert.ok(rows.length > 0, 'tablePivot() is empty');
    const statuses = new Set();
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), [
        'orders.created_at.day',
        'orders.status',
        'orders.total_revenue',
      ]);
      assert.match(row['orders.created_at.day'], /^2024-01-(0[1-9]|[12]\d|3[01])T00:00:00\.000$/);
      assert.equal(typeof row['orders.status'], 'string');
      assert.ok(Number.isFinite(Number(row['orders.total_revenue'])), `revenue ${row['orders.total_revenue']}`);
      statuses.add(row['orders.status']);
    }

    // chartPivot: one point a day of January (the client fills missing dates), one series a
    // status, and each point agrees with the table.
    const chart = rs.chartPivot();
    assert.equal(chart.length, 31);
    assert.equal(chart[0].x, '2024-01-01T00:00:00.000');
    assert.equal(chart[30].x, '2024-01-31T00:00:00.000');
    const series = rs.seriesNames().map((s) => s.key);
    assert.deepEqual(new Set(series), new Set([...statuses].map((s) => `${s},orders.total_revenue`)));
    const byDay = new Map(chart.map((p) => [p.x, p]));
    for (const row of rows) {
      const point = byDay.get(row['orders.created_at.day']);
      assert.ok(point, `no chart point for ${row['orders.created_at.day']}`);
      assert.equal(point[`${row['orders.status']},orders.total_revenue`], Number(row['orders.total_revenue']));
    }

    // The normalised query the server sent back is what the client pivots on.
    const query = rs.query();
    assert.deepEqual(query.measures, ['orders.total_revenue']);
    assert.deepEqual(query.dimensions, ['orders.status']);
    assert.equal(query.timeDimensions[0].granularity, 'day');
  });

  test('load: compact responseFormat gives the same rows', async () => {
    // A total order: rows that tie on the default order (the day) may come in any order,
    // for instance once the demo's rollup answers the second request and not the first.
    const query = { ...DOC_QUERY, order: [['orders.created_at', 'asc'], ['orders.status', 'asc']] };
    const plain = await api.load(query);
    const compact = await api.load(query, {}, undefined, 'compact');
    assert.deepEqual(compact.tablePivot(), plain.tablePivot());
  });

  test('load: an equals filter keeps only that status', async () => {
    const rs = await api.load({
      ...DOC_QUERY,
      filters: [{ member: 'orders.status', operator: 'equals', values: ['completed'] }],
    });
    const rows = rs.tablePivot();
    assert.ok(rows.length > 0, 'no completed orders in January 2024');
    for (const row of rows) assert.equal(row['orders.status'], 'completed');
    assert.deepEqual(
      rs.seriesNames().map((s) => s.key),
      ['completed,orders.total_revenue'],
    );
  });

  test('meta: the orders cube with its measures', async () => {
    const meta = await api.meta();
    const orders = meta.meta.cubes.find((c) => c.name === 'orders');
    assert.ok(orders, `no orders cube in meta: ${meta.meta.cubes.map((c) => c.name).join(', ')}`);
    const measures = orders.measures.map((m) => m.name);
    for (const m of ['orders.count', 'orders.total_revenue']) {
      assert.ok(measures.includes(m), `${m} not among the orders measures: ${measures.join(', ')}`);
    }
    assert.ok(orders.dimensions.some((d) => d.name === 'orders.status'));
    // The client's own helpers over meta.
    assert.equal(meta.resolveMember('orders.total_revenue', 'measures').name, 'orders.total_revenue');
    assert.equal(meta.resolveMember('orders.status', 'dimensions').type, 'string');
  });

  test('an unknown member rejects with an error naming it', async () => {
    const err = await rejection(
      api.load({ measures: ['orders.no_such_measure'], dimensions: ['orders.status'] }),
    );
    assert.ok(err instanceof RequestError, `want RequestError, got ${err}`);
    assert.equal(err.status, 400);
    assert.match(err.message, /orders\.no_such_measure/);
  });

  test('a bad token rejects with 401', async () => {
    const garbage = await rejection(cube('not-a-token', { apiUrl: server.apiUrl }).load(DOC_QUERY));
    assert.ok(garbage instanceof RequestError, `want RequestError, got ${garbage}`);
    assert.equal(garbage.status, 401);
    assert.match(garbage.message, /token/i);

    const wrongSecret = await mintToken('another-secret');
    const forged = await rejection(cube(wrongSecret, { apiUrl: server.apiUrl }).meta());
    assert.ok(forged instanceof RequestError, `want RequestError, got ${forged}`);
    assert.equal(forged.status, 401);
    assert.match(forged.message, /token/i);
  });

  test('load: compareDateRange decomposes into one result set per range', async () => {
    const ranges = [
      ['2024-01-01', '2024-01-31'],
      ['2024-02-01', '2024-02-29'],
    ];
    const rs = await api.load({
      measures: ['orders.count'],
      timeDimensions: [{ dimension: 'orders.created_at', granularity: 'month', compareDateRange: ranges }],
    });
    const parts = rs.decompose();
    assert.equal(parts.length, 2);
    parts.forEach((part, i) => {
      const td = part.query().timeDimensions[0];
      assert.equal(td.dateRange[0].slice(0, 10), ranges[i][0]);
      assert.equal(td.dateRange[1].slice(0, 10), ranges[i][1]);
      const rows = part.tablePivot();
      assert.equal(rows.length, 1, `range ${ranges[i]}: ${JSON.stringify(rows)}`);
      assert.ok(Number(rows[0]['orders.count']) > 0);
    });
    // The combined result set charts one series per range.
    assert.equal(rs.seriesNames().length, 2);
  });

  test('dryRun normalises the query', async () => {
    const res = await api.dryRun(DOC_QUERY);
    assert.equal(res.queryType, 'regularQuery');
    assert.equal(res.normalizedQueries.length, 1);
    const q = res.normalizedQueries[0];
    assert.deepEqual(q.measures, ['orders.total_revenue']);
    assert.deepEqual(q.dimensions, ['orders.status']);
    assert.equal(q.timeDimensions[0].dimension, 'orders.created_at');
  });

  test('sql returns the compiled SQL and its parameters', async () => {
    const sq = await api.sql(DOC_QUERY);
    assert.match(sq.sql(), /^\s*SELECT\b/i);
    assert.match(sq.sql(), /\bFROM\b/i);
    const [text, params] = sq.rawQuery().sql;
    assert.equal(text, sq.sql());
    assert.ok(Array.isArray(params));
  });
});

describe('@cubejs-client/core polls through Continue wait', needsBinary, () => {
  let server;
  let api;

  before(async () => {
    // A wait shorter than any query over the demo's 100,000 orders, so /load answers
    // Continue wait first and the client asks again until the result is there.
    server = await startCubit({ CUBIT_CONTINUE_WAIT: '5ms' });
    api = cube(await mintToken(), { apiUrl: server.apiUrl });
  });

  after(async () => {
    await server?.stop();
  });

  test('load resolves after Continue wait answers', async () => {
    const progress = [];
    const rs = await api.load(
      {
        measures: ['orders.total_revenue', 'orders.count'],
        dimensions: ['users.city'],
        timeDimensions: [{ dimension: 'orders.created_at', granularity: 'day' }],
      },
      { progressCallback: (p) => progress.push(p) },
    );
    assert.ok(progress.length > 0, 'the server never answered Continue wait');
    assert.ok(rs.tablePivot().length > 0);
  });
});
