// End-to-end: the web UI in Debian's Chromium (playwright-core, headless) against a real
// `cubit serve`, driven by the accessible names a person (or a screen reader) uses. The
// commands the UI shows are copied through the clipboard and run as they are: psql and curl
// answer, and their numbers are checked against the demo's known total (100,000 orders).
//
//   cd web && npm ci && CUBIT_BIN=../bin/cubit npm run e2e
//
// Screenshots of each state go to web/e2e/artifacts/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ADMIN_TOKEN, CHROMIUM, admin, artifactsDir, chromiumArgs, prerequisites, sh, startCubit } from './harness.mjs';

const missing = prerequisites();
const inCI = process.env.CI === 'true';
const ORDERS_TOTAL = 100_000;
const PROJECT = 'shop-e2e';

test('the e2e prerequisites are there', (t) => {
  if (missing.length === 0) return;
  if (inCI) assert.fail(`missing for the UI e2e tests:\n- ${missing.join('\n- ')}`);
  t.skip(`skipped (set CI=true to make this a failure):\n- ${missing.join('\n- ')}`);
});

/** sumCounts adds up the counts in psql's unaligned output ("status|count" lines). */
function sumPsql(out) {
  const lines = out.trim().split('\n').filter(Boolean);
  return { rows: lines.length, sum: lines.reduce((a, l) => a + Number(l.split('|')[1]), 0) };
}

describe('the web UI against cubit serve', { skip: missing.length ? 'prerequisites missing (see above)' : false, timeout: 240_000 }, () => {
  let server;
  let browser;
  let context;
  let page;
  const offsite = [];
  const shots = artifactsDir();
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });

  const header = () => page.getByRole('banner');
  const headerStatus = () => header().getByRole('status');
  const drawer = () => page.getByRole('dialog', { name: 'API credentials' });
  const credsButton = () => header().getByRole('button', { name: 'API Credentials' });

  /** copied clicks a copy button and returns what reached the clipboard. */
  async function copied(scope, name) {
    await page.evaluate(() => navigator.clipboard.writeText(''));
    await scope.getByRole('button', { name }).click();
    await scope.getByText('Copied').first().waitFor();
    return page.evaluate(() => navigator.clipboard.readText());
  }

  before(async () => {
    const { chromium } = await import('playwright-core');
    server = await startCubit();
    const res = await fetch(server.origin + '/');
    const html = await res.text();
    assert.match(html, /<script type="module"[^>]+src="\/assets\//, 'the binary serves no built UI: run `make web` (or npm run build in web/), then rebuild bin/cubit');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: chromiumArgs });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
    page = await context.newPage();
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(server.origin + '/') && !u.startsWith('data:')) offsite.push(u);
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('sign-in: a wrong token is refused with the error; the right one opens the page', async () => {
    await page.goto(server.origin + '/');
    const field = page.getByLabel('Admin token');
    await field.fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Sign-in refused' }).waitFor();
    await shot('01-sign-in-refused');
    await field.fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await header().getByLabel('Project').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cubit.adminToken')), ADMIN_TOKEN);
    // Nothing selected yet: API Credentials explains why it cannot open.
    assert.equal(await credsButton().getAttribute('aria-disabled'), 'true');
    assert.equal(await credsButton().getAttribute('title'), 'Select a project first');
    await shot('02-signed-in');
  });

  test('New project: inline validation, then a managed project on the demo environment, always on', async () => {
    await header().getByRole('button', { name: 'New project' }).click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('bad name!');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await dialog.getByText("Use letters, digits, '-', '_' and '.' only.").waitFor();
    assert.equal(await dialog.getByLabel('Name').getAttribute('aria-invalid'), 'true');
    await shot('03-new-project-invalid');
    await dialog.getByLabel('Name').fill(PROJECT);
    await dialog.getByRole('radio', { name: 'Managed' }).check();
    await dialog.getByLabel('Environment').selectOption('demo');
    await dialog.getByLabel('Deployment mode').selectOption('always_on');
    await dialog.getByRole('button', { name: 'Create project' }).click();
    await dialog.waitFor({ state: 'detached' });
    const got = await admin(server.origin, 'GET', `/projects/${PROJECT}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.deployment, { mode: 'always_on' });
  });

  test('select the project and its main branch; the status goes green', async () => {
    await header().getByLabel('Project').selectOption(PROJECT);
    await header().getByLabel('Branch').selectOption('main');
    await header().locator('.status[data-state="RUNNING"]').waitFor({ timeout: 30_000 });
    assert.match(await headerStatus().innerText(), /RUNNING/);
    assert.equal(await credsButton().getAttribute('aria-disabled'), null);
    await shot('04-running');
  });

  let creds;
  test('API Credentials: the drawer, copy buttons, and psql and curl that answer', async () => {
    creds = (await admin(server.origin, 'GET', `/projects/${PROJECT}/branches/main/credentials`)).body;
    await credsButton().click();
    const d = drawer();
    await d.waitFor();
    assert.equal(await d.getAttribute('aria-modal'), 'true');
    await d.getByRole('heading', { name: 'SQL API' }).waitFor();
    await d.getByRole('heading', { name: 'REST API' }).waitFor();
    // Secrets are masked until revealed.
    assert.ok(!(await d.innerText()).includes(creds.sql.password), 'the password shows before Reveal password');
    assert.ok(!(await d.innerText()).includes(creds.rest.token), 'the token shows before Reveal token');
    await shot('05-credentials-masked');
    await d.getByRole('button', { name: 'Reveal password' }).click();
    await d.getByRole('button', { name: 'Hide password' }).waitFor();
    assert.ok((await d.innerText()).includes(creds.sql.password));
    await d.getByRole('button', { name: 'Reveal token' }).click();
    assert.ok((await d.innerText()).includes(creds.rest.token));
    await shot('06-credentials-revealed');

    assert.equal(await copied(d, 'Copy connection string'), creds.sql.connection_string);
    assert.equal(await copied(d, 'Copy password'), creds.sql.password);
    assert.equal(await copied(d, 'Copy host'), creds.sql.host);
    assert.equal(await copied(d, 'Copy port'), String(creds.sql.port));
    assert.equal(await copied(d, 'Copy database'), creds.sql.database);
    assert.equal(await copied(d, 'Copy username'), creds.sql.username);
    assert.equal(await copied(d, 'Copy base URL'), creds.rest.base_url);
    assert.equal(await copied(d, 'Copy token'), creds.rest.token);
    const py = await copied(d, 'Copy Python snippet');
    assert.ok(py.includes(creds.rest.token) && py.includes('import requests'), py);
    const js = await copied(d, 'Copy JavaScript snippet');
    assert.ok(js.includes(creds.rest.token) && js.includes('await fetch('), js);

    const psql = await copied(d, 'Copy psql command');
    assert.equal(psql, `psql "${creds.sql.connection_string}"`);
    const psqlOut = await sh(`${psql} -X -A -t -c "SELECT status, MEASURE(count) FROM orders GROUP BY 1"`);
    const bySql = sumPsql(psqlOut);
    assert.equal(bySql.rows, 5, psqlOut);
    assert.equal(bySql.sum, ORDERS_TOTAL, psqlOut);

    const curl = await copied(d, 'Copy curl command');
    const body = JSON.parse(await sh(curl));
    assert.deepEqual(body.query.measures, ['orders.count']);
    assert.deepEqual(body.query.dimensions, ['orders.status']);
    assert.equal(body.data.length, 5);
    assert.equal(body.data.reduce((a, r) => a + Number(r['orders.count']), 0), ORDERS_TOTAL);
  });

  test('focus stays in the drawer', async () => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      assert.ok(await drawer().evaluate((el) => el.contains(document.activeElement)), `focus left the drawer after ${i + 1} Tabs`);
    }
    await page.keyboard.press('Shift+Tab');
    assert.ok(await drawer().evaluate((el) => el.contains(document.activeElement)));
  });

  test('Restart from the drawer: yellow, then green', async () => {
    const d = drawer();
    const badge = d.getByRole('status').first();
    // Record every state the drawer's indicator shows (a fast restart is yellow only briefly).
    await badge.evaluate((el) => {
      window.__states = [el.dataset.state];
      new MutationObserver(() => window.__states.push(el.dataset.state)).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    await d.getByRole('button', { name: 'Restart' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Restart the deployment?' });
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForFunction(() => window.__states.includes('PENDING'));
    await shot('07-restart-pending');
    await page.waitForFunction(() => {
      const s = window.__states;
      return s.indexOf('PENDING') >= 0 && s.at(-1) === 'RUNNING';
    }, null, { timeout: 60_000 });
    await d.locator('.status[data-state="RUNNING"]').waitFor();
    await d.getByRole('heading', { name: 'SQL API' }).waitFor();
    await shot('08-restart-done');
  });

  test('Rotate REST token: the drawer shows the new token and the old one is refused (401)', async () => {
    const d = drawer();
    const oldCurl = await copied(d, 'Copy curl command');
    const oldToken = await copied(d, 'Copy token');
    await d.getByRole('button', { name: 'Rotate REST token' }).click();
    await page.getByRole('alertdialog', { name: 'Rotate the REST token?' }).getByRole('button', { name: 'Confirm' }).click();
    await d.getByText('The REST token was rotated').waitFor();
    const newToken = await copied(d, 'Copy token');
    assert.notEqual(newToken, oldToken);
    assert.ok((await d.innerText()).includes(newToken), 'the revealed token is the new one');
    const oldStatus = await sh(`${oldCurl} -o /dev/null -w '%{http_code}'`);
    assert.equal(oldStatus, '401');
    const newCurl = await copied(d, 'Copy curl command');
    const body = JSON.parse(await sh(newCurl));
    assert.equal(body.data.reduce((a, r) => a + Number(r['orders.count']), 0), ORDERS_TOTAL);
    await shot('09-rotated');
  });

  test('Rotate SQL password: the new password logs in', async () => {
    const d = drawer();
    const oldPsql = await copied(d, 'Copy psql command');
    await d.getByRole('button', { name: 'Rotate SQL password' }).click();
    await page.getByRole('alertdialog', { name: 'Rotate the SQL password?' }).getByRole('button', { name: 'Confirm' }).click();
    await d.getByText('The SQL password was rotated').waitFor();
    const newPsql = await copied(d, 'Copy psql command');
    assert.notEqual(newPsql, oldPsql);
    const out = await sh(`${newPsql} -X -A -t -c "SELECT MEASURE(count) FROM orders"`);
    assert.equal(Number(out.trim()), ORDERS_TOTAL);
    await assert.rejects(sh(`${oldPsql} -X -A -t -c "SELECT 1"`), /password|authentication/i);
  });

  test('Escape closes the drawer and gives the focus back to API Credentials', async () => {
    await page.keyboard.press('Escape');
    await drawer().waitFor({ state: 'detached' });
    assert.ok(await credsButton().evaluate((el) => el === document.activeElement));
    // The keyboard opens it again.
    await page.keyboard.press('Enter');
    await drawer().waitFor();
    await page.keyboard.press('Escape');
    await drawer().waitFor({ state: 'detached' });
  });

  test('Playground: orders.count by orders.status, a chart, the table, the SQL', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Playground' }).click();
    await page.getByRole('checkbox', { name: 'orders.count', exact: true }).check();
    await page.getByRole('checkbox', { name: 'orders.status', exact: true }).check();
    await page.getByRole('button', { name: 'Run query' }).click();
    const table = page.getByRole('table');
    await table.locator('tbody tr').first().waitFor();
    assert.equal(await table.locator('tbody tr').count(), 5);
    const counts = await table.locator('tbody tr td:last-child').allInnerTexts();
    assert.equal(counts.reduce((a, c) => a + Number(c), 0), ORDERS_TOTAL);
    const canvas = page.getByRole('img', { name: /Bar chart of/ });
    await canvas.waitFor();
    // Something was drawn: the canvas has pixels that are not transparent.
    const painted = await canvas.evaluate((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    assert.ok(painted > 1000, `the chart drew ${painted} pixels`);
    // From the source table, or from the demo model's rollup once it is built.
    assert.match(await page.locator('pre.sql').innerText(), /FROM (orders|prod_pre_aggregations\.orders_revenue_by_status_daily_)/);
    assert.deepEqual(JSON.parse(await page.locator('pre.json').innerText()), { measures: ['orders.count'], dimensions: ['orders.status'], limit: 100 });
    const asJson = await copied(page.locator('form[aria-label="Query"]'), 'Copy as JSON');
    assert.deepEqual(JSON.parse(asJson), { measures: ['orders.count'], dimensions: ['orders.status'], limit: 100 });
    await shot('10-playground');
  });

  test('Playground: a time series is a line chart; an error is shown in place with its member', async () => {
    await page.getByRole('checkbox', { name: 'orders.status', exact: true }).uncheck();
    await page.getByLabel('Time dimension').selectOption('orders.created_at');
    await page.getByLabel('Granularity').selectOption('month');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page.getByRole('img', { name: /Line chart of/ }).waitFor();
    await shot('11-playground-line');
    // A string operator on a number: the error names the member, which the UI marks.
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByLabel('Filter 1 member').selectOption('orders.count');
    await page.getByLabel('Filter 1 operator').selectOption('contains');
    await page.getByLabel('Filter 1 values').fill('x');
    await page.getByRole('button', { name: 'Run query' }).click();
    const alert = page.locator('.results').getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /^orders\.count: .*orders\.count is not a string/);
    assert.equal(await page.getByLabel('Filter 1 member').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByRole('checkbox', { name: 'orders.count', exact: true }).getAttribute('aria-invalid'), 'true');
    await shot('12-playground-error');
    await page.getByRole('button', { name: 'Remove filter 1' }).click();
  });

  test('Files: the model files with line numbers', async () => {
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Files' }).click();
    const list = page.getByRole('navigation', { name: 'Model files' });
    await list.getByRole('button', { name: /cubes\/orders\.yml/ }).click();
    const code = page.getByRole('list', { name: 'model/cubes/orders.yml, read-only' });
    await code.waitFor();
    assert.ok((await code.locator('li').count()) > 10);
    assert.match(await code.innerText(), /orders/);
    await shot('13-files');
  });

  test('Files: a broken model shows its problems at their lines; the deployment is red with the error', async () => {
    const base = `/projects/${PROJECT}/branches`;
    assert.equal((await admin(server.origin, 'POST', base, { name: 'broken', from: 'main' })).status, 201);
    const path = 'model/cubes/orders.yml';
    const text = (await admin(server.origin, 'GET', `${base}/broken/files/${path}`)).body.content;
    const lines = text.split('\n');
    const at = lines.findIndex((l) => /^\s+type: count$/.test(l));
    assert.ok(at > 0, 'no "type: count" line in orders.yml');
    lines[at] = lines[at].replace('count', 'no_such_type');
    const put = await admin(server.origin, 'PUT', `${base}/broken/files/${path}`, { content: lines.join('\n'), message: 'break a measure', force: true });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const problems = (await admin(server.origin, 'GET', `${base}/broken/problems`)).body.problems;
    const mine = problems.find((p) => p.file === path);
    assert.ok(mine, JSON.stringify(problems));
    await page.reload();
    await header().getByLabel('Branch').selectOption('broken');
    const list = page.getByRole('navigation', { name: 'Model files' });
    await list.getByRole('button', { name: /cubes\/orders\.yml.*problem/ }).click();
    const line = page.locator(`#line-${mine.line}`);
    await line.waitFor();
    assert.match(await line.getAttribute('class'), /code__line--error/);
    assert.ok((await line.innerText()).includes(mine.message), await line.innerText());
    await line.scrollIntoViewIfNeeded();
    await shot('14-files-problems');
    // Restarting the broken branch ends in ERROR: red, with the error on hover and in the details.
    await admin(server.origin, 'POST', `${base}/broken/restart`);
    const err = header().locator('.status[data-state="ERROR"]');
    await err.waitFor({ timeout: 30_000 });
    assert.match(await err.getAttribute('title'), /^ERROR: .*orders\.yml:\d+: .*no_such_type/);
    await header().getByText('Error details').click();
    assert.match(await header().locator('.error-details pre').innerText(), /no_such_type/);
    assert.equal(await credsButton().getAttribute('title'), 'The deployment is in ERROR: fix the error and restart it to see its credentials');
    await shot('15-error-details');
    await header().getByLabel('Branch').selectOption('main');
    await header().locator('.status[data-state="RUNNING"]').waitFor({ timeout: 30_000 });
  });

  test('Settings: the project form and the branch security settings', async () => {
    await header().getByRole('button', { name: 'Settings' }).click();
    const dialog = page.getByRole('dialog', { name: `Settings of ${PROJECT}` });
    await dialog.getByLabel('Token lifetime').waitFor();
    await dialog.getByLabel('Protected branches').fill('main');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual((await admin(server.origin, 'GET', `/projects/${PROJECT}`)).body.protected_branches, ['main']);
    await header().getByRole('button', { name: 'Settings' }).click();
    await dialog.getByLabel('IP allow-list').waitFor();
    await dialog.getByLabel('Token lifetime').fill('48h');
    await dialog.getByRole('button', { name: 'Save security settings' }).click();
    await dialog.getByText('Security settings saved.').waitFor();
    assert.equal((await admin(server.origin, 'GET', `/projects/${PROJECT}/branches/main/security`)).body.token_lifetime, '48h');
    await shot('16-settings');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  test('Stop: the status goes red and API Credentials says why it is disabled', async () => {
    await header().getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByRole('alertdialog', { name: 'Stop the deployment?' }).getByRole('button', { name: 'Confirm' }).click();
    await header().locator('.status[data-state="STOPPED"]').waitFor({ timeout: 30_000 });
    const reason = 'The deployment is STOPPED: start it to see its credentials';
    assert.equal(await credsButton().getAttribute('aria-disabled'), 'true');
    assert.equal(await credsButton().getAttribute('title'), reason);
    const describedBy = await credsButton().getAttribute('aria-describedby');
    assert.equal(await page.locator(`[id="${describedBy}"]`).innerText(), reason);
    await credsButton().hover();
    // Playwright waits for an aria-disabled button to be enabled; a person can click it anyway.
    await credsButton().click({ force: true });
    assert.equal(await drawer().count(), 0, 'a disabled API Credentials opened the drawer');
    await header().getByRole('button', { name: 'Start', exact: true }).waitFor();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Playground' }).click();
    await page.getByText('The Playground needs the deployment RUNNING').waitFor();
    await shot('17-stopped');
    await header().getByRole('button', { name: 'Start', exact: true }).click();
    await header().locator('.status[data-state="RUNNING"]').waitFor({ timeout: 30_000 });
  });

  test('390×844: #token= signs in once and the header is usable', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    p.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(server.origin + '/') && !u.startsWith('data:')) offsite.push(u);
    });
    await p.goto(`${server.origin}/#token=${encodeURIComponent(ADMIN_TOKEN)}`);
    const hdr = p.getByRole('banner');
    await hdr.getByLabel('Project').waitFor();
    assert.ok(!p.url().includes('token='), `the token stays in the URL: ${p.url()}`);
    await hdr.getByLabel('Project').selectOption(PROJECT);
    await hdr.getByLabel('Branch').selectOption('main');
    await hdr.locator('.status[data-state="RUNNING"]').waitFor({ timeout: 30_000 });
    for (const name of ['New project', 'Restart', 'API Credentials', 'Settings']) {
      const box = await hdr.getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name} is outside the screen: ${JSON.stringify(box)}`);
    }
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 390, `the page is ${overflow}px wide`);
    await p.screenshot({ path: join(shots, '18-phone-header.png') });
    await hdr.getByRole('button', { name: 'API Credentials' }).click();
    await p.getByRole('dialog', { name: 'API credentials' }).getByRole('heading', { name: 'SQL API' }).waitFor();
    await p.screenshot({ path: join(shots, '19-phone-credentials.png') });
    await phone.close();
  });

  test('no request left the Cubit server', () => {
    assert.deepEqual(offsite, []);
  });
});
