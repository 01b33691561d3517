// node-postgres (`pg` from npm) against the SQL API of a real `cubit serve` on the embedded
// demo: the server is the binary named by CUBIT_BIN (default ../../bin/cubit, which
// `make test-js` builds), on free loopback ports, with its SQL user and password set through
// CUBEJS_SQL_USER / CUBEJS_SQL_PASSWORD. The client connects with the connection string the
// server prints, as a person would paste it.
//
//   cd clients/js && npm ci && node --test sql-api.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, mkdtempSync, constants as fsConstants } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const CUBIT_BIN = resolve(here, process.env.CUBIT_BIN || '../../bin/cubit');
const SQL_USER = 'cubit_js';
const SQL_PASSWORD = 'js-p@ss/word';
const START_TIMEOUT_MS = 30_000;

function binaryProblem() {
  try {
    accessSync(CUBIT_BIN, fsConstants.X_OK);
    return null;
  } catch {
    return `no executable cubit binary at ${CUBIT_BIN}: run \`make test-js\` (it builds one) or set CUBIT_BIN`;
  }
}

async function freePort() {
  const srv = createServer();
  await new Promise((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

function serverEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CUBEJS_') && !k.startsWith('CUBIT_') && !k.startsWith('PG') && k !== 'PORT') env[k] = v;
  }
  // The platform's state goes to a fresh directory, not the checkout's .cubit.
  const CUBIT_DATA_DIR = mkdtempSync(join(tmpdir(), 'cubit-js-sql-'));
  return { ...env, CUBEJS_API_SECRET: 'cubit-js-sql-test-secret', CUBIT_DATA_DIR, ...extra };
}

// Starts cubit serve and resolves with the connection string it prints.
async function startCubit() {
  const httpPort = await freePort();
  const sqlPort = await freePort();
  const child = spawn(CUBIT_BIN, ['serve', '--listen', `127.0.0.1:${httpPort}`], {
    env: serverEnv({ CUBEJS_PG_SQL_PORT: String(sqlPort), CUBEJS_SQL_USER: SQL_USER, CUBEJS_SQL_PASSWORD: SQL_PASSWORD }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (err = (err + c).slice(-16_384)));
  const exited = new Promise((ok) => child.once('exit', ok));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const m = out.match(/SQL API\s+psql "([^"]+)"/);
    if (m) return { url: m[1], sqlPort, stop };
    if (child.exitCode !== null) throw new Error(`cubit serve exited (${child.exitCode}):\n${err}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cubit serve printed no SQL API line within ${START_TIMEOUT_MS} ms:\nstdout:\n${out}\nstderr:\n${err}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

const missing = binaryProblem();
test('the cubit binary is there (SQL API test)', () => {
  if (missing) assert.fail(missing);
});

describe('node-postgres against the SQL API of cubit serve (embedded demo)', { timeout: 120_000, skip: missing ? 'no cubit binary' : false }, () => {
  let server;
  let client;

  before(async () => {
    server = await startCubit();
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await server?.stop();
  });

  test('prints a connection string with the configured user and port', () => {
    const u = new URL(server.url);
    assert.equal(decodeURIComponent(u.username), SQL_USER);
    assert.equal(decodeURIComponent(u.password), SQL_PASSWORD);
    assert.equal(u.port, String(server.sqlPort));
    assert.equal(u.pathname, '/cubit');
  });

  test('MEASURE(count) by status, simple protocol, equals COUNT(*) and the total', async () => {
    const byMeasure = await client.query('SELECT status, MEASURE(count) AS n FROM orders GROUP BY 1 ORDER BY 1');
    const byCount = await client.query('SELECT status, COUNT(*) AS n FROM orders GROUP BY 1 ORDER BY 1');
    assert.ok(byMeasure.rows.length >= 2, JSON.stringify(byMeasure.rows));
    assert.deepEqual(byMeasure.rows, byCount.rows);
    const total = await client.query('SELECT MEASURE(count) AS n FROM orders');
    const sum = byMeasure.rows.reduce((a, r) => a + Number(r.n), 0);
    assert.equal(Number(total.rows[0].n), sum);
  });

  test('a parameterized query (extended protocol) equals the grouped answer', async () => {
    const all = await client.query('SELECT status, MEASURE(count) AS n FROM orders GROUP BY 1');
    for (const { status, n } of all.rows) {
      if (status === null) continue;
      const one = await client.query({
        name: 'by-status',
        text: 'SELECT orders.count AS n, orders.total_revenue AS r FROM orders WHERE orders.status = $1',
        values: [status],
      });
      assert.equal(one.rows.length, 1);
      assert.equal(one.rows[0].n, n, `count of ${status}`);
      assert.equal(typeof one.rows[0].r, 'number'); // float8
    }
  });

  test('the documentation query, verbatim', async () => {
    const res = await client.query(
      "SELECT orders.status, orders.total_revenue, orders.count FROM orders WHERE orders.created_at >= '2024-01-01' GROUP BY orders.status ORDER BY orders.total_revenue DESC;",
    );
    assert.deepEqual(res.fields.map((f) => f.name), ['status', 'total_revenue', 'count']);
    assert.ok(res.rows.length >= 2);
    for (let i = 1; i < res.rows.length; i++) assert.ok(res.rows[i - 1].total_revenue >= res.rows[i].total_revenue);
  });

  test('an error is a clean PostgreSQL error and the connection survives', async () => {
    await assert.rejects(client.query('SELECT no_such_column FROM orders'), (err) => {
      assert.match(err.code, /^[0-9A-Z]{5}$/);
      return true;
    });
    const ok = await client.query('SELECT 1 AS one');
    assert.equal(ok.rows[0].one, 1);
  });

  test('a wrong password is refused with 28P01', async () => {
    const u = new URL(server.url);
    u.password = 'wrong';
    const bad = new pg.Client({ connectionString: u.toString() });
    await assert.rejects(bad.connect(), (err) => err.code === '28P01');
    await bad.end().catch(() => {});
  });
});
