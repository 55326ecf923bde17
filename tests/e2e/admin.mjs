// The administrator's journey through recert's web interface in a real browser: sign in,
// create a campaign from the form (a refused form first), activate it, watch its dashboard,
// run a report and download it as CSV.
//
// Environment (run.sh checks it; crates/recert/tests/browser.rs prepares it):
//   RECERT_E2E_BASE_URL        the server
//   RECERT_E2E_ADMIN_LOGIN     an identity with the CERT_ADMIN web role (email or name)
//   RECERT_E2E_ADMIN_PASSWORD  its web password
//   RECERT_E2E_SCREENSHOTS     the folder for the screenshots (admin-NN-step.png)
//
// Prints PASS per step and exits 0, or one FAIL line naming the step and exits 1.

import { readFileSync } from 'node:fs';

import {
  Failed,
  Journey,
  check,
  clickAndWait,
  env,
  expectFlash,
  launch,
} from './lib.mjs';

const WATCHDOG_MS = 180_000;

async function main() {
  const base = env('RECERT_E2E_BASE_URL').replace(/\/+$/, '');
  const login = env('RECERT_E2E_ADMIN_LOGIN');
  const password = env('RECERT_E2E_ADMIN_PASSWORD');
  const shots = env('RECERT_E2E_SCREENSHOTS');
  const { browser, context, page } = await launch();
  const j = new Journey('admin', page, shots);
  const name = `Browser-made review ${Date.now()}`;
  let campaignPath = '';
  try {
    await j.step('sign-in', async () => {
      await page.goto(`${base}/login`);
      await page.getByLabel('Name or email').fill(login);
      await page.getByLabel('Password').fill(password);
      await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
      check(new URL(page.url()).pathname === '/reviews', `after signing in the browser is at ${page.url()}`);
      const nav = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' });
      check(await nav.isVisible(), 'an administrator sees the Campaigns link');
      await clickAndWait(page, nav);
      await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor();
    });

    await j.step('refused-form', async () => {
      await clickAndWait(page, page.getByRole('link', { name: 'New campaign' }));
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Deadline (end of that day, UTC)').fill('2099-12-31');
      await page.getByLabel('Type').selectOption('SOURCE_OWNER');
      await clickAndWait(page, page.getByRole('button', { name: 'Create campaign' }));
      await expectFlash(page, 'error', /sourceIds must name at least one source/);
      check(await page.getByLabel('Name', { exact: true }).inputValue() === name, 'the refused form keeps what was typed');
    });

    await j.step('create', async () => {
      await page.getByLabel('Type').selectOption('MANAGER');
      await page.getByLabel('Comments required').selectOption('REVOKE_ONLY_DECISIONS');
      await clickAndWait(page, page.getByRole('button', { name: 'Create campaign' }));
      campaignPath = new URL(page.url()).pathname;
      check(/^\/admin\/campaigns\/[0-9a-f]{32}$/.test(campaignPath), `after creating, the browser is at ${page.url()}`);
      await expectFlash(page, 'ok', /Campaign created/);
    });

    await j.step('activate', async () => {
      // Generation runs in the background: reload until the campaign is STAGED.
      for (let i = 0; i < 100; i += 1) {
        if (await page.getByRole('button', { name: 'Activate' }).count()) break;
        await page.waitForTimeout(200);
        await page.goto(`${base}${campaignPath}`);
      }
      await clickAndWait(page, page.getByRole('button', { name: 'Activate' }));
      await expectFlash(page, 'ok', /Activation started/);
      for (let i = 0; i < 100; i += 1) {
        if ((await page.locator('p.meta').innerText()).includes('ACTIVE')) break;
        await page.waitForTimeout(200);
        await page.goto(`${base}${campaignPath}`);
      }
      check((await page.locator('p.meta').innerText()).includes('ACTIVE'), 'the campaign became ACTIVE');
      check(await page.locator('svg.chart').count() === 1, 'the dashboard draws the progress chart');
      check(await page.getByRole('table', { name: 'Reviewers' }).locator('tbody tr').count() > 0, 'reviewers are listed');
    });

    await j.step('report', async () => {
      await clickAndWait(page, page.getByRole('button', { name: 'Run the Campaign Status Report' }));
      await expectFlash(page, 'ok', /being built/);
      let link = page.getByRole('link', { name: 'Download CSV' });
      for (let i = 0; i < 100 && !(await link.count()); i += 1) {
        await page.waitForTimeout(200);
        await page.goto(`${base}${campaignPath}`);
        link = page.getByRole('link', { name: 'Download CSV' });
      }
      check(await link.count() >= 1, 'a Download CSV link appears once the report is built');
      const [download] = await Promise.all([page.waitForEvent('download'), link.first().click()]);
      const file = await download.path();
      const csv = readFileSync(file, 'utf8');
      check(csv.startsWith('Campaign Name,'), `the CSV starts with ${JSON.stringify(csv.slice(0, 40))}`);
      check(csv.includes(name), 'the CSV is this campaign\'s');
      check(download.suggestedFilename().endsWith('.csv'), `the file is named ${download.suggestedFilename()}`);
    });

    await j.step('campaign-list', async () => {
      await page.goto(`${base}/admin/campaigns`);
      const row = page.locator('table.list tbody tr', { hasText: name });
      check(await row.count() === 1, 'the new campaign is listed');
      check((await row.innerText()).includes('ACTIVE'), 'listed as ACTIVE');
    });
  } finally {
    for (const w of j.warnings) console.log(`WARN ${w}`);
    await context.close();
    await browser.close();
  }
  if (j.defects.length) {
    throw new Failed(`the journey stepped around ${j.defects.length} defect(s):\n  ${j.defects.join('\n  ')}`);
  }
  console.log(`admin.mjs: all ${j.n} steps passed (screenshots in ${shots})`);
}

const watchdog = setTimeout(() => {
  console.log(`FAIL admin.mjs: still running after ${WATCHDOG_MS / 1000} s`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

main().then(
  () => process.exit(0),
  (e) => {
    console.log(`FAIL ${e instanceof Failed ? e.message : e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
