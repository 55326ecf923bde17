// The reviewer's journey through recert's web interface in a real browser (Debian's Chromium,
// driven by playwright-core): sign in, find the review, filter and search, approve, revoke
// (refused without a comment, then with one), the keyboard shortcuts, reassign, decide the rest
// in bulk, sign off, and the refusal of another reviewer's review.
//
// Environment (run.sh checks it; crates/recert/tests/browser.rs prepares it):
//   RECERT_E2E_BASE_URL      the server, e.g. http://127.0.0.1:8080
//   RECERT_E2E_LOGIN         the reviewer's email or name (the identity signs in at /login)
//   RECERT_E2E_PASSWORD      the reviewer's web password (recert admin user set-password)
//   RECERT_E2E_CERT_ID       an ACTIVE certification of the reviewer, all undecided, with at
//                            least 4 items, in a campaign that requires comments on revokes
//                            (mandatoryCommentRequirement REVOKE_ONLY_DECISIONS); it is signed
//                            off at the end, so every run needs a fresh one
//   RECERT_E2E_OTHER_CERT_ID a certification of another reviewer (only opened: must be refused)
//   RECERT_E2E_REASSIGN_TO   the email (or name) of an active identity that may receive an item
//                            of that certification: not the reviewer, nobody reviewed in it
//   RECERT_E2E_SCREENSHOTS   the folder for the screenshots (reviewer-NN-step.png)
//
// Steps and their screenshots (reviewer-NN-name.png, taken at the end of each step; a few steps
// add reviewer-NN-<moment>.png): 01 sign-in, 02 my-reviews, 03 filter-and-search, 04 approve-one,
// 05 revoke-needs-comment, 06 keyboard (j, a), 07 reassign, 08 decide-all, 09 sign-off,
// 10 other-reviewer.
//
// Prints PASS per step and exits 0, or prints one FAIL line naming the step and exits 1. A
// defect the journey can step around (DEFECT lines) does not stop it, so one run shows
// everything else; it fails at the end. WARN lines (accessibility findings, broken references,
// failed subresources) do not fail it.

import {
  PLAYWRIGHT_VERSION,
  Failed,
  Journey,
  audit,
  check,
  clickAndWait,
  env,
  expectFlash,
  launch,
  pager,
  pressAndWait,
  progress,
  rows,
} from './lib.mjs';

const WATCHDOG_MS = 240_000;

async function main() {
  const base = env('RECERT_E2E_BASE_URL').replace(/\/+$/, '');
  const login = env('RECERT_E2E_LOGIN');
  const password = env('RECERT_E2E_PASSWORD');
  const certId = env('RECERT_E2E_CERT_ID');
  const otherCertId = env('RECERT_E2E_OTHER_CERT_ID');
  const reassignTo = env('RECERT_E2E_REASSIGN_TO');
  const shots = env('RECERT_E2E_SCREENSHOTS');
  check(certId !== otherCertId, 'environment: RECERT_E2E_CERT_ID and RECERT_E2E_OTHER_CERT_ID are the same');

  const { browser, page } = await launch();
  console.log(`reviewer.mjs: playwright-core ${PLAYWRIGHT_VERSION}, ${browser.version()}, ${base}`);
  const j = new Journey('reviewer', page, shots);

  // Whatever the page's script logs as an error, or a script that fails, is a finding.
  page.on('pageerror', (e) => j.warn(page.url(), `script error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) j.warn(page.url(), `console error: ${m.text()}`);
  });
  // A missing stylesheet, script or icon (the documents' own statuses are checked by the steps).
  page.on('response', (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== 'document') {
      j.warn(new URL(r.url()).pathname, `${r.request().resourceType()} answers ${r.status()}`);
    }
  });

  const certPath = `/reviews/${certId}`;
  const certUrl = `${base}${certPath}`;
  const undecidedUrl = `${certUrl}?status=undecided`;
  const onCert = (u) => new URL(u).pathname === certPath;
  const auditHere = async (where) => {
    for (const finding of await audit(page)) j.warn(where, finding);
  };
  let total = 0; // the certification's items, as #progress says
  let made = 0; // decided so far
  const commented = []; // items decided with a comment: { id, text, decision }

  try {
    await j.step('sign-in', async () => {
      // An unsigned visit goes to the sign-in form, which brings the reviewer back afterwards.
      await page.goto(certUrl);
      const at = new URL(page.url());
      check(at.pathname === '/login', `an unsigned visit of ${certPath} shows ${at.pathname}, expected /login`);
      check(at.searchParams.get('next') === certPath, `/login's next is ${at.searchParams.get('next')}, expected ${certPath}`);
      await page.goto(`${base}/login`);
      check((await page.title()).startsWith('Sign in'), `the title is ${JSON.stringify(await page.title())}`);
      await auditHere('/login');
      // The labels name the fields (what a screen reader announces).
      await page.getByLabel('Name or email').fill(login);
      await page.getByLabel('Password').fill(password);
      await page.screenshot({ path: j.shot('sign-in-form'), fullPage: true });
      await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
      check(new URL(page.url()).pathname === '/reviews', `after signing in the browser is at ${page.url()}, expected /reviews`);
      const cookies = await page.context().cookies(base);
      const session = cookies.find((c) => c.name === 'recert_session');
      check(session, 'no recert_session cookie after signing in');
      check(session.httpOnly, 'the session cookie is readable by scripts (not HttpOnly)');
      check(session.sameSite === 'Lax', `the session cookie has SameSite=${session.sameSite}, expected Lax`);
      check(await page.getByRole('button', { name: 'Sign out' }).isVisible(), 'no "Sign out" button once signed in');
    });

    await j.step('my-reviews', async () => {
      await page.getByRole('heading', { level: 1, name: 'My reviews' }).waitFor();
      await auditHere('/reviews');
      const link = page.locator(`table.list a[href="${certPath}"]`);
      check((await link.count()) === 1, `My reviews has ${await link.count()} links to ${certPath}, expected 1`);
      const name = (await link.innerText()).trim();
      const row = page.locator('table.list tbody tr', { has: page.locator(`a[href="${certPath}"]`) });
      const state = (await row.locator('td').nth(4).innerText()).trim();
      check(state === 'Open', `My reviews shows the review as ${JSON.stringify(state)}, expected "Open"`);
      await clickAndWait(page, link);
      check(onCert(page.url()), `following "${name}" leads to ${page.url()}`);
      const h1 = (await page.locator('h1').innerText()).trim();
      check(h1 === name, `the review's heading is ${JSON.stringify(h1)}, My reviews called it ${JSON.stringify(name)}`);
      ({ made, total } = await progress(page));
      check(total >= 4, `the review has ${total} items; this journey needs at least 4`);
      check(made === 0, `the review already has ${made} decisions; this journey needs a fresh one`);
      const p = await pager(page);
      check(p.total === total, `the pager says ${p.total} items, #progress says ${total}`);
      const shown = (await rows(page)).length;
      check(shown === Math.min(total, 50), `the page shows ${shown} items of ${total}, expected ${Math.min(total, 50)} (50 a page)`);
      if (total > 50) {
        // More than a page: Next and Previous walk the pages.
        await clickAndWait(page, page.getByRole('link', { name: 'Next' }));
        const p2 = await pager(page);
        check(p2.first === 51, `the second page starts at item ${p2.first}, expected 51`);
        await clickAndWait(page, page.getByRole('link', { name: 'Previous' }));
        check((await pager(page)).first === 1, 'Previous does not lead back to the first page');
      }
      await auditHere(certPath);
    });

    let searched = '';
    await j.step('filter-and-search', async () => {
      // Without a filter the form's fields are empty (a field that says "None" would search
      // for "None" on the next Apply).
      for (const [label, sel] of [['Search', '#q'], ['Source', '#source']]) {
        const v = await page.locator(sel).inputValue();
        if (v !== '') {
          j.defect('filter-and-search', `without a filter the ${label} field (${sel}) holds ${JSON.stringify(v)} instead of nothing, so Apply filters on it (crates/server/templates/certification.html renders the missing value)`);
          await page.locator(sel).fill('');
        }
      }
      // Nothing is decided yet: "Decided" lists nothing, "Undecided" everything.
      await page.selectOption('#status', 'decided');
      await clickAndWait(page, page.getByRole('button', { name: 'Apply' }));
      let url = new URL(page.url());
      check(onCert(page.url()) && url.searchParams.get('status') === 'decided', `Apply with Status "Decided" leads to ${page.url()}`);
      check((await rows(page)).length === 0, 'the "Decided" filter lists items although nothing is decided');
      check(await page.getByText('No item matches.').isVisible(), 'an empty list does not say "No item matches."');
      check((await page.locator('#status').inputValue()) === 'decided', 'the Status select does not keep "Decided" after Apply');

      await page.getByLabel('Status').selectOption('undecided');
      await clickAndWait(page, page.getByRole('button', { name: 'Apply' }));
      url = new URL(page.url());
      check(url.searchParams.get('status') === 'undecided', `Apply with Status "Undecided" leads to ${page.url()}`);
      const undecided = await rows(page);
      check(undecided.length === Math.min(total, 50), `"Undecided" lists ${undecided.length} items, expected ${Math.min(total, 50)}`);
      check(undecided.every((r) => !r.decided), '"Undecided" lists a decided item');

      // The search box: a person's name narrows the list to their access (the search matches
      // the start of a person's or an access's name).
      const last = undecided[undecided.length - 1];
      searched = last.person;
      await page.getByLabel('Search').fill(searched);
      await clickAndWait(page, page.getByRole('button', { name: 'Apply' }));
      url = new URL(page.url());
      check(url.searchParams.get('q') === searched, `the search leads to ${page.url()}, expected q=${searched}`);
      check(url.searchParams.get('status') === 'undecided', 'the search dropped the Status filter');
      check((await page.locator('#q').inputValue()) === searched, 'the search box does not keep the search after Apply');
      const found = await rows(page);
      check(found.length >= 1, `searching "${searched}" finds nothing although that person is on the list`);
      const stray = found.filter((r) => !r.person.startsWith(searched) && !r.access.startsWith(searched));
      check(stray.length === 0, `searching "${searched}" lists ${stray.map((r) => `${r.access} of ${r.person}`).join(', ')}`);
      const { total: matching } = await pager(page);
      check(matching === found.length || found.length === 50, `the pager counts ${matching} matches, the page shows ${found.length}`);
      console.log(`  search "${searched}": ${matching} of ${total} items`);

      // Back to every undecided item.
      await page.getByLabel('Search').fill('');
      await clickAndWait(page, page.getByRole('button', { name: 'Apply' }));
      check(!new URL(page.url()).searchParams.get('q'), 'clearing the search box keeps the search');
      check((await pager(page)).total === total, 'without a search the undecided list is not complete again');
    });

    /** The undecided list, checked against what the journey expects. */
    const reloadUndecided = async () => {
      await page.goto(undecidedUrl);
      const p = await progress(page);
      check(p.made === made && p.total === total, `#progress says ${p.made} of ${p.total}, expected ${made} of ${total}`);
      return rows(page);
    };
    const expectProgress = async (what) => {
      const p = await progress(page);
      check(p.made === made && p.total === total, `after ${what} #progress says ${p.made} of ${p.total} decided, expected ${made} of ${total}`);
    };
    const stillListed = async (id) => (await rows(page)).some((r) => r.id === id);

    await j.step('approve-one', async () => {
      const [first] = await reloadUndecided();
      check(first.approveLabel === `Approve ${first.access} of ${first.person}`,
        `the item's Approve button is labelled ${JSON.stringify(first.approveLabel)}, expected "Approve ${first.access} of ${first.person}"`);
      const text = 'Still needed for the month-end close.';
      await page.getByLabel(/^Comment/).fill(text);
      // The button as a screen reader user finds it: by its accessible name.
      const button = page.locator(`#item-${first.id}`).getByRole('button', { name: first.approveLabel, exact: true });
      await clickAndWait(page, button);
      await expectFlash(page, 'ok', '1 item approved.');
      made += 1;
      await expectProgress('approving one item');
      const url = new URL(page.url());
      check(url.searchParams.get('status') === 'undecided', `after the decision the Status filter is gone: ${page.url()}`);
      check(!(await stillListed(first.id)), 'the approved item is still listed as undecided');
      commented.push({ id: first.id, text, decision: 'Approved' });
    });

    await j.step('revoke-needs-comment', async () => {
      const [item] = await rows(page);
      check(item, 'no undecided item left to revoke');
      check((await page.locator('#comments').inputValue()) === '', 'the comment box is not empty after a decision');
      const revoke = page.locator(`#item-${item.id}`).getByRole('button', { name: `Revoke ${item.access} of ${item.person}`, exact: true });
      await clickAndWait(page, revoke);
      await expectFlash(page, 'error', /this campaign requires a comment on REVOKE decisions/);
      await expectProgress('a refused revoke');
      check(await stillListed(item.id), 'the item whose revoke was refused is no longer listed as undecided');
      await page.screenshot({ path: j.shot('revoke-refused'), fullPage: true });

      const text = 'Left the team in March.';
      await page.locator('#comments').fill(text);
      await clickAndWait(page, page.locator(`#item-${item.id}`).getByRole('button', { name: `Revoke ${item.access} of ${item.person}`, exact: true }));
      await expectFlash(page, 'ok', '1 item revoked.');
      made += 1;
      await expectProgress('revoking one item');
      check(!(await stillListed(item.id)), 'the revoked item is still listed as undecided');
      commented.push({ id: item.id, text, decision: 'Revoked' });

      // Both decisions and their comments show under "Decided".
      await page.goto(`${certUrl}?status=decided`);
      const decided = await rows(page);
      for (const c of commented) {
        const r = decided.find((x) => x.id === c.id);
        check(r, `item ${c.id} is not listed under "Decided"`);
        check(r.decided, `item ${c.id} is listed under "Decided" without the decided style`);
        check(r.decision.startsWith(c.decision) && r.decision.includes(c.text),
          `item ${c.id} reads ${JSON.stringify(r.decision)}, expected ${c.decision} with the comment “${c.text}”`);
      }
      check(decided.length === made, `"Decided" lists ${decided.length} items, expected ${made}`);
    });

    await j.step('keyboard', async () => {
      const list = await reloadUndecided();
      check(list.length >= 2, `only ${list.length} undecided items left; the keyboard step needs 2 (one more to reassign)`);
      // Focus on the page itself (not a field, where letters are typed, not shortcuts).
      await page.locator('h1').click();
      await page.keyboard.press('j');
      const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
      check(focused === `item-${list[0].id}`, `after "j" the focus is on ${JSON.stringify(focused)}, expected the first item row item-${list[0].id}`);
      // The focused row is visible: it has an outline (:focus style), so a keyboard user sees where they are.
      const outline = await page.locator(`#item-${list[0].id}`).evaluate((el) => getComputedStyle(el).outlineStyle);
      if (outline === 'none') j.warn(certPath, 'the row focused with "j" shows no focus outline');
      await page.screenshot({ path: j.shot('keyboard-focus'), fullPage: true });
      await pressAndWait(page, 'a');
      await expectFlash(page, 'ok', '1 item approved.');
      made += 1;
      await expectProgress('approving with the "a" key');
      check(!(await stillListed(list[0].id)), `the item approved with "a" (${list[0].access} of ${list[0].person}) is still undecided`);
    });

    await j.step('reassign', async () => {
      const list = await reloadUndecided();
      check(list.length >= 1, 'no undecided item left to reassign');
      const item = list[list.length - 1];
      const box = page.getByRole('checkbox', { name: `Select ${item.access} of ${item.person}`, exact: true });
      check((await box.count()) === 1, `no single checkbox labelled "Select ${item.access} of ${item.person}"`);
      await box.check();
      await page.getByLabel('New reviewer (name or email)').fill(reassignTo);
      await page.getByLabel('Reason').fill('She owns this system now.');
      await clickAndWait(page, page.getByRole('button', { name: 'Reassign selected' }));
      await expectFlash(page, 'ok', `1 item reassigned to ${reassignTo}.`);
      total -= 1;
      await expectProgress('reassigning one item');
      check((await pager(page)).total === total - made, `the undecided list does not count one item fewer after the reassignment`);
      check(!(await stillListed(item.id)), 'the reassigned item is still listed');
      await page.goto(certUrl);
      check(!(await page.locator(`#item-${item.id}`).count()), 'the reassigned item is still in the review');
      check((await pager(page)).total === total, `the review does not count ${total} items after the reassignment`);
    });

    await j.step('decide-all', async () => {
      // Signing off before everything is decided says how many are left.
      await page.goto(`${certUrl}/sign-off`);
      const left = total - made;
      const warning = page.locator('main p.flash.error');
      const said = (await warning.innerText()).trim();
      check(said.startsWith(`${left} ${left === 1 ? 'item is' : 'items are'} still undecided`),
        `the sign-off page says ${JSON.stringify(said)}, expected ${left} undecided`);
      check((await page.getByRole('button', { name: 'Sign off' }).count()) === 0, 'the sign-off page offers "Sign off" with items undecided');
      await clickAndWait(page, page.getByRole('link', { name: 'Show the undecided items' }));
      check(new URL(page.url()).searchParams.get('status') === 'undecided', `"Show the undecided items" leads to ${page.url()}`);

      // Select all on the page, "Approve selected"; again while anything is undecided (50 a page).
      for (let round = 1; ; round += 1) {
        check(round <= Math.ceil(total / 50) + 1, `still undecided items after ${round - 1} rounds of "Approve selected"`);
        const list = await rows(page);
        if (list.length === 0) break;
        await page.getByRole('checkbox', { name: 'Select all on this page' }).check();
        const unchecked = await page.locator('input[name=item]:not(:checked)').count();
        check(unchecked === 0, `"Select all on this page" left ${unchecked} items unselected`);
        await clickAndWait(page, page.getByRole('button', { name: 'Approve selected' }));
        const n = list.length;
        await expectFlash(page, 'ok', `${n} ${n === 1 ? 'item' : 'items'} approved.`);
        made += n;
        await expectProgress(`approving ${n} selected items`);
        console.log(`  round ${round}: approved ${n}; ${made} of ${total} decided`);
      }
      check(made === total, `${made} of ${total} decided after approving every page`);
      check(await page.getByText('No item matches.').isVisible(), 'the empty undecided list does not say "No item matches."');
    });

    await j.step('sign-off', async () => {
      await page.goto(certUrl);
      await clickAndWait(page, page.getByRole('link', { name: 'Sign off…' }));
      check(new URL(page.url()).pathname === `${certPath}/sign-off`, `"Sign off…" leads to ${page.url()}`);
      await auditHere(`${certPath}/sign-off`);
      const text = await page.locator('main').innerText();
      check(text.includes(`All ${total} items are decided.`), `the confirmation does not say "All ${total} items are decided.": ${JSON.stringify(text.slice(0, 300))}`);
      await page.screenshot({ path: j.shot('sign-off-confirm'), fullPage: true });
      await clickAndWait(page, page.getByRole('button', { name: 'Sign off', exact: true }));
      check(onCert(page.url()), `after signing off the browser is at ${page.url()}`);
      await expectFlash(page, 'ok', 'Signed off. Thank you.');
      check((await page.locator('#items-form').count()) === 0, 'the signed-off review can still be changed (the decision form is there)');
      check((await page.getByRole('button', { name: /^(Approve|Revoke)/ }).count()) === 0, 'the signed-off review still offers decisions');
      check((await page.locator('p.meta').innerText()).includes('Signed off'), 'the review does not say it is signed off');
      const readOnly = await rows(page);
      check(readOnly.length > 0 && readOnly.every((r) => r.decided && !r.checkbox && /^(Approved|Revoked)/.test(r.decision)),
        'the signed-off review does not list its items as decided and read-only');
      await page.screenshot({ path: j.shot('signed-off'), fullPage: true });
      // The flash message is shown once.
      await page.reload();
      check((await page.locator('main > p.flash').count()) === 0, 'the flash message is shown again on reload');
      await page.goto(`${base}/reviews`);
      const row = page.locator('table.list tbody tr', { has: page.locator(`a[href="${certPath}"]`) });
      const state = (await row.locator('td').nth(4).innerText()).trim();
      check(state === 'Signed off', `My reviews shows the review as ${JSON.stringify(state)}, expected "Signed off"`);
    });

    await j.step('other-reviewer', async () => {
      const res = await page.goto(`${base}/reviews/${otherCertId}`);
      check(res && res.status() === 403, `another reviewer's review answers ${res && res.status()}, expected 403`);
      const text = await page.locator('main').innerText();
      check(/assigned to another reviewer/.test(text), `the 403 page does not say "assigned to another reviewer": ${JSON.stringify(text.slice(0, 300))}`);
      check((await page.locator('[role=alert]').count()) >= 1, 'the refusal is not announced (no role=alert)');
      await auditHere('/reviews/{other}');
      // Nor can it be signed off by posting the form with this session's own form token: the
      // refusal leads back to the same 403 page.
      const csrf = await page.locator('form.signout input[name=csrf]').inputValue();
      const post = await page.request.post(`${base}/reviews/${otherCertId}/sign-off`, { form: { csrf } });
      const body = await post.text();
      check(post.status() === 403 && body.includes('assigned to another reviewer'),
        `signing another reviewer's review off answers ${post.status()}: ${body.replace(/\s+/g, ' ').slice(0, 300)}`);
    });
  } finally {
    for (const w of j.warnings) console.log(`WARN ${w}`);
    await browser.close();
  }
  if (j.defects.length) {
    throw new Failed(`the journey went through, stepping around ${j.defects.length} defect(s):\n  ${j.defects.join('\n  ')}`);
  }
  console.log(`reviewer.mjs: all ${j.n} steps passed (screenshots in ${shots})`);
}

const watchdog = setTimeout(() => {
  console.log(`FAIL reviewer.mjs: still running after ${WATCHDOG_MS / 1000} s`);
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
