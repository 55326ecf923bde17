// Shared helpers of the browser journeys (tests/e2e/*.mjs): Debian's Chromium driven by the npm
// package playwright-core (the exact version in tests/e2e/package.json), steps that name
// themselves when they fail, a screenshot per step, and page reads used by every journey.
//
// playwright-core never downloads a browser: it launches the system's Chromium
// (RECERT_E2E_CHROMIUM, default /usr/bin/chromium). It is looked up in RECERT_E2E_NODE_DIR
// (run.sh sets it: the folder whose node_modules holds it), else from this file's folder.

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.RECERT_E2E_NODE_DIR;
const require = createRequire(nodeDir ? pathToFileURL(`${nodeDir}/package.json`) : import.meta.url);
const { chromium } = require('playwright-core');
export const PLAYWRIGHT_VERSION = require('playwright-core/package.json').version;

/** Actions and waits give up after this long (a page of recert answers in milliseconds). */
export const ACTION_TIMEOUT = 15_000;

export class Failed extends Error {}

/** Fails the current step with `msg` unless `cond` holds. */
export function check(cond, msg) {
  if (!cond) throw new Failed(msg);
}

/** A required environment variable. */
export function env(name) {
  const v = process.env[name];
  if (!v) throw new Failed(`environment: ${name} is not set`);
  return v;
}

/** Launches Chromium headless; answers { browser, context, page }. */
export async function launch() {
  const executablePath = process.env.RECERT_E2E_CHROMIUM || '/usr/bin/chromium';
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 60_000,
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  const page = await context.newPage();
  return { browser, context, page };
}

/**
 * Runs named steps in order, each ending with a screenshot `<prefix>-NN-<name>.png` in
 * `dir`; the first failure takes a `...-FAILED.png` screenshot, names the step and stops.
 */
export class Journey {
  constructor(prefix, page, dir) {
    this.prefix = prefix;
    this.page = page;
    this.dir = dir;
    this.n = 0;
    this.warnings = [];
    this.defects = [];
    mkdirSync(dir, { recursive: true });
  }

  shot(name) {
    return join(this.dir, `${this.prefix}-${String(this.n).padStart(2, '0')}-${name}.png`);
  }

  async step(name, fn) {
    this.n += 1;
    const label = `${this.prefix} step ${this.n} (${name})`;
    const started = Date.now();
    try {
      await fn();
      const file = this.shot(name);
      await this.page.screenshot({ path: file, fullPage: true });
      console.log(`PASS ${label} in ${Date.now() - started} ms; screenshot ${file}`);
    } catch (e) {
      const file = this.shot(`${name}-FAILED`);
      await this.page.screenshot({ path: file, fullPage: true }).catch(() => {});
      const why = e instanceof Failed ? e.message : e && e.stack ? e.stack : String(e);
      throw new Failed(`${label} failed: ${why}\n  at ${this.page.url()}\n  screenshot ${file}`);
    }
  }

  /**
   * Notes something wrong that the journey can step around: the journey goes on, so one run
   * shows everything else, and fails at its end.
   */
  defect(step, what) {
    this.defects.push(`${this.prefix} step ${this.n} (${step}): ${what}`);
    console.log(`DEFECT ${this.defects[this.defects.length - 1]}`);
  }

  /** Notes what looked wrong without failing the journey (printed at the end). */
  warn(where, what) {
    const line = `${where}: ${what}`;
    if (!this.warnings.includes(line)) this.warnings.push(line);
  }
}

/**
 * Clicks something that submits a form or follows a link and waits for the page that comes
 * back (after a post/redirect/get, the page at the redirect's target).
 */
export async function clickAndWait(page, locator) {
  const committed = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  await locator.click();
  await committed;
  await page.waitForLoadState('load');
}

/** Presses a key that submits a form (a keyboard shortcut) and waits as clickAndWait does. */
export async function pressAndWait(page, key) {
  const committed = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  await page.keyboard.press(key);
  await committed;
  await page.waitForLoadState('load');
}

/** The flash message of the page: { kind: 'ok' | 'error', role, text }, or null. */
export async function flash(page) {
  const f = page.locator('main > p.flash');
  if ((await f.count()) === 0) return null;
  const cls = (await f.first().getAttribute('class')) || '';
  return {
    kind: cls.split(/\s+/).includes('error') ? 'error' : 'ok',
    role: await f.first().getAttribute('role'),
    text: (await f.first().innerText()).trim(),
  };
}

/** Checks the page shows the flash `text` (exactly, or matching a RegExp) of `kind`. */
export async function expectFlash(page, kind, text) {
  const f = await flash(page);
  check(f, `expected the ${kind} message ${text} but the page shows no message`);
  const matches = text instanceof RegExp ? text.test(f.text) : f.text === text;
  check(matches, `expected the ${kind} message ${text}, the page says: ${JSON.stringify(f.text)}`);
  check(f.kind === kind, `the message ${JSON.stringify(f.text)} is styled ${f.kind}, expected ${kind}`);
  const role = kind === 'error' ? 'alert' : 'status';
  check(f.role === role, `the message ${JSON.stringify(f.text)} has role ${f.role}, expected ${role} (screen readers)`);
  return f;
}

/** `#progress` ("3 of 12 decided") as { made, total }. */
export async function progress(page) {
  const t = (await page.locator('#progress').innerText()).trim();
  const m = /^(\d+) of (\d+) decided$/.exec(t);
  check(m, `#progress reads ${JSON.stringify(t)}, expected "N of M decided"`);
  return { made: Number(m[1]), total: Number(m[2]) };
}

/** The pager's "Items A–B of N" as { first, last, total }. */
export async function pager(page) {
  const t = (await page.locator('nav.pages > span').innerText()).trim();
  const m = /^Items (\d+)–(\d+) of (\d+)$/.exec(t);
  check(m, `the pager reads ${JSON.stringify(t)}, expected "Items A–B of N"`);
  return { first: Number(m[1]), last: Number(m[2]), total: Number(m[3]) };
}

/** The item rows of a certification page, in page order. */
export async function rows(page) {
  return page.$$eval('tr.item', (trs) =>
    trs.map((r) => {
      const cells = Array.from(r.querySelectorAll(':scope > td'));
      // An open review starts each row with the selection box; a signed-off one does not.
      const box = r.querySelector('input[type=checkbox][name=item]');
      const at = box ? 1 : 0;
      const person = cells[at];
      const summary = r.querySelector('summary');
      const approve = r.querySelector('button[value$=":APPROVE"]');
      const revoke = r.querySelector('button[value$=":REVOKE"]');
      return {
        id: r.id.replace(/^item-/, ''),
        person: person ? person.textContent.trim() : '',
        access: summary ? (summary.firstChild ? summary.firstChild.textContent.trim() : '') : '',
        decided: r.classList.contains('decided'),
        decision: cells[at + 2] ? cells[at + 2].textContent.trim().replace(/\s+/g, ' ') : '',
        approveLabel: approve ? approve.getAttribute('aria-label') : null,
        revokeLabel: revoke ? revoke.getAttribute('aria-label') : null,
        checkbox: !!box,
      };
    }),
  );
}

/**
 * Looks for what a person with a screen reader or a keyboard would trip over: form controls
 * without an accessible name, references (for, list, form, aria-labelledby,
 * aria-describedby) to ids that do not exist, and duplicate ids. Answers a list of findings.
 */
export async function audit(page) {
  return page.evaluate(() => {
    const out = [];
    const ids = new Map();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
    for (const [id, n] of ids) if (n > 1) out.push(`the id "${id}" is used ${n} times`);
    const desc = (el) => {
      const tag = el.tagName.toLowerCase();
      if (el.id) return `${tag}#${el.id}`;
      if (el.name) return `${tag}[name=${el.name}]`;
      return tag;
    };
    for (const el of document.querySelectorAll('[for],[list],[form],[aria-labelledby],[aria-describedby],[aria-controls]')) {
      for (const attr of ['for', 'list', 'form', 'aria-labelledby', 'aria-describedby', 'aria-controls']) {
        const v = el.getAttribute(attr);
        if (v === null) continue;
        for (const ref of v.split(/\s+/).filter(Boolean)) {
          if (!document.getElementById(ref)) out.push(`${desc(el)} has ${attr}="${ref}" but no element has that id`);
        }
      }
    }
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.type === 'hidden' || !visible(el)) continue;
      const named =
        (el.getAttribute('aria-label') || '').trim() ||
        (el.getAttribute('aria-labelledby') || '').trim() ||
        (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) ||
        (el.getAttribute('title') || '').trim() ||
        (el.tagName === 'BUTTON' && el.textContent.trim());
      if (!named) out.push(`${desc(el)} has no accessible name`);
    }
    for (const img of document.querySelectorAll('img:not([alt])')) out.push(`${desc(img)} has no alt text`);
    if (!document.documentElement.lang) out.push('the page has no lang attribute');
    if (!document.title.trim()) out.push('the page has no title');
    if (document.querySelectorAll('h1').length !== 1) out.push(`the page has ${document.querySelectorAll('h1').length} h1 headings`);
    return out;
  });
}
