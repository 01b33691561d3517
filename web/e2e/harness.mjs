// The e2e harness: what the UI tests need around them — a real `cubit serve` (the binary named
// by CUBIT_BIN) on free loopback ports with a fresh data directory, Debian's Chromium driven by
// playwright-core, and shell commands run as a person would paste them.
import { execFile, spawn } from 'node:child_process';
import { accessSync, existsSync, mkdirSync, mkdtempSync, rmSync, constants as fsConstants } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB = resolve(here, '..');
export const CUBIT_BIN = resolve(WEB, process.env.CUBIT_BIN || '../bin/cubit');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(here, 'artifacts');
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const START_TIMEOUT_MS = 30_000;

/** prerequisites lists what is missing to run the e2e tests (empty when all is there). */
export function prerequisites() {
  const missing = [];
  try {
    accessSync(CUBIT_BIN, fsConstants.X_OK);
  } catch {
    missing.push(`no executable cubit binary at ${CUBIT_BIN} (cd /work/main && go build -o bin/cubit ./cmd/cubit, or set CUBIT_BIN)`);
  }
  try {
    accessSync(CHROMIUM, fsConstants.X_OK);
  } catch {
    missing.push(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`);
  }
  if (!existsSync(join(WEB, 'node_modules', 'playwright-core'))) missing.push('no node_modules/playwright-core (run npm ci in web/)');
  for (const tool of ['/usr/bin/psql', '/bin/sh']) if (!existsSync(tool)) missing.push(`no ${tool}`);
  if (!['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some((p) => existsSync(p))) missing.push('no curl');
  return missing;
}

export async function freePort() {
  const srv = createServer();
  await new Promise((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

/** cleanEnv is the environment without Cube's, Cubit's and libpq's variables from outside. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('CUBEJS_') && !k.startsWith('CUBIT_') && !k.startsWith('PG') && k !== 'PORT') env[k] = v;
  }
  return { ...env, ...extra };
}

/** startCubit starts `cubit serve` and resolves once /readyz answers 200. */
export async function startCubit() {
  const httpPort = await freePort();
  const sqlPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'cubit-web-e2e-'));
  const child = spawn(
    CUBIT_BIN,
    ['serve', '--listen', `127.0.0.1:${httpPort}`, '--sql-listen', `127.0.0.1:${sqlPort}`, '--data-dir', dataDir],
    { env: cleanEnv({ CUBIT_ADMIN_TOKEN: ADMIN_TOKEN }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (c) => (log = (log + c).slice(-32_768));
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((ok) => child.once('exit', ok));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const origin = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cubit serve exited (${child.exitCode}):\n${log}`);
    try {
      const res = await fetch(`${origin}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cubit serve was not ready within ${START_TIMEOUT_MS} ms:\n${log}`);
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  return { origin, sqlPort, stop, log: () => log };
}

/** admin calls the admin API from the test (to check what the UI shows against the server). */
export async function admin(origin, method, path, body) {
  const res = await fetch(origin + '/api/v1' + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** sh runs a script with /bin/sh, as pasted into a terminal; resolves with stdout. */
export function sh(script, { timeout = 30_000 } = {}) {
  return new Promise((ok, fail) => {
    execFile('/bin/sh', ['-c', script], { env: cleanEnv(), timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${script}\nfailed: ${err.message}\n${stderr}`));
      else ok(stdout);
    });
  });
}

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function artifactsDir() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}
