// The LSMs' dispute console (issue #24), side by side: Lena and Mark (a
// second LSM, added with the CLI) watch /disputes; Alice opens a dispute in
// her chat with Bob and the case appears in both consoles without a
// reload, with Lena; Mark takes it (Lena's console follows live), opens
// its chat beside the case, and settles it with a partial refund after a
// confirmation; Alice's chat shows the settlement. The transcript he
// downloads (JSON) and reads (HTML) passes `server transcript verify`,
// with the server's own key and with the key it publishes; a copy with one
// character changed does not.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { violations } from '../support/axe';
import { Server, TEST_LIMITS } from '../support/server';
import { Actor, DESKTOP, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 22, 'disputes', {});
const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'target', 'debug', 'server');
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

// The demo data's chat between Alice (customer) and Bob (provider).
const JOB = 'Fix the kitchen sink';
const REASON = 'The tap still drips after the visit.';
const NOTE = 'Half the call-out fee back; Bob fixes the drip on Friday.';
// A message of the demo chat, and the same with one character changed.
const SAID = 'Thursday at 10:00 works for me';
const FORGED = 'Thursday at 11:00 works for me';
const MARK = { email: 'mark@demo.test', name: 'Mark Manager', password: 'Mark-keeps-the-peace-2026!' };

let alice: Actor, lena: Actor, mark: Actor;

/** The server's environment, for the CLI against the spec's database. */
function cliEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    JOBCHAT_DATA_DIR: server.dataDir,
    DATABASE_URL: `sqlite://${server.dataDir}/jobchat.db`,
    RUST_LOG: 'warn',
    ...TEST_LIMITS,
  };
}

/** `server transcript verify FILE [--key KEY]`: its exit code and what
 * it printed. Without `--key` it checks against the server's own key. */
function verify(file: string, ...more: string[]): { status: number | null; out: string } {
  const r = spawnSync(bin, ['transcript', 'verify', file, ...more], { cwd: root, env: cliEnv(), encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Signs in with a password of one's own (the demo helper knows only the
 * demo accounts'). */
async function signInWith(browser: Browser, email: string, password: string): Promise<Actor> {
  const context = await browser.newContext({ viewport: DESKTOP, baseURL: server.baseURL });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.log(`[${email}] ${m.text().slice(0, 300)}`);
  });
  await page.goto('/login');
  await page.locator('body[data-hydrated]').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.baseURL + '/');
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  return { context, page, dialogs: [], frames: [] };
}

const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const button = (scope: Locator | Page, name: string) => scope.getByRole('button', { name, exact: true });
const caseRow = (page: Page) => page.locator('.case-row', { hasText: JOB });
const panel = (page: Page) => page.locator('#case-panel');

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

async function openConsole(a: Actor) {
  await a.page.getByRole('link', { name: 'Disputes' }).click();
  await a.page.waitForURL(server.baseURL + '/disputes');
  await expect(a.page.getByRole('heading', { name: 'Cases' })).toBeVisible();
  await expect(a.page.locator('.case-queue .empty')).toBeVisible();
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  const added = execFileSync(
    bin,
    ['user', 'add', '--role', 'lsm', '--email', MARK.email, '--name', MARK.name, '--password', MARK.password],
    { cwd: root, env: cliEnv(), encoding: 'utf8' },
  );
  expect(added).toContain(MARK.email);
  alice = await signInAs(browser, server, 'alice@demo.test');
  lena = await signInAs(browser, server, 'lena@demo.test');
  mark = await signInWith(browser, MARK.email, MARK.password);
  for (const a of [lena, mark]) await openConsole(a);
  await alice.page.locator('.chat-row', { hasText: JOB }).click();
  await expect(popup(alice.page).locator('.msg', { hasText: SAID })).toBeVisible();
});

test.afterAll(async () => {
  for (const a of [alice, lena, mark]) await a?.context.close();
  await server.stop();
});

test('a dispute opened in a chat appears live in both consoles, with Lena', async () => {
  await button(popup(alice.page), 'Add LSM').click();
  await popup(alice.page).getByLabel('What is the disagreement about?').fill(REASON);
  await button(popup(alice.page), 'Add LSM to this chat').click();
  await expect(popup(alice.page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();

  // No reload: the `dispute_case` event moves both queues.
  for (const a of [lena, mark]) {
    const row = caseRow(a.page);
    await expect(row).toBeVisible();
    await expect(row).toContainText(REASON);
    await expect(row).toContainText('by Alice Customer');
    await expect(row).toContainText('Alice Customer (customer) · Bob Plumber (provider)');
    await expect(row.locator('.pill-job')).toHaveText('Booked');
    await expect(row).toContainText(/Opened (just now|\d+ min ago)/);
  }
  await expect(caseRow(lena.page).locator('.case-lsm')).toHaveText('Assigned to you');
  await expect(caseRow(mark.page).locator('.case-lsm')).toHaveText('Assigned to Lena Manager');
});

test('Mark takes the case: Lena sees it with Mark, live', async () => {
  await caseRow(mark.page).click();
  await expect(caseRow(mark.page)).toHaveAttribute('aria-pressed', 'true');
  await expect(panel(mark.page).getByRole('heading', { name: JOB })).toBeVisible();
  await expect(panel(mark.page).locator('.case-assigned')).toHaveText('Lena Manager');
  await expect(panel(mark.page)).toContainText(REASON);
  // Not his yet: nothing to settle or hand over.
  await expect(button(panel(mark.page), 'Resolve')).toHaveCount(0);
  await expect(panel(mark.page).getByLabel('Hand over to')).toHaveCount(0);
  expect(await violations(mark.page)).toEqual([]);

  await button(panel(mark.page), 'Take case').click();
  await expect(panel(mark.page).locator('.case-assigned')).toHaveText('You');
  await expect(caseRow(mark.page).locator('.case-lsm')).toHaveText('Assigned to you');
  // The panel has the focus once the case moved (its button went away).
  await expect(panel(mark.page)).toBeFocused();
  await expect(caseRow(lena.page).locator('.case-lsm')).toHaveText('Assigned to Mark Manager');

  // Lena, no longer on it, can take it back; Mark could hand it over.
  await caseRow(lena.page).click();
  await expect(button(panel(lena.page), 'Take case')).toBeVisible();
  const to = panel(mark.page).getByLabel('Hand over to');
  await expect(to.locator('option', { hasText: 'Lena Manager' })).toHaveCount(1);
  await expect(to.locator('option', { hasText: 'Mark Manager' })).toHaveCount(0);
  // "Only mine" leaves Lena's queue empty.
  await lena.page.getByLabel('Only mine').check();
  await expect(caseRow(lena.page)).toHaveCount(0);
  await lena.page.getByLabel('Only mine').uncheck();
  await expect(caseRow(lena.page)).toBeVisible();
});

test('Mark opens the chat beside the case and settles it after confirming', async () => {
  await button(panel(mark.page), 'Open chat').click();
  const chat = popup(mark.page);
  await expect(chat.locator('.msg', { hasText: SAID })).toBeVisible();
  // The window docks beside the console, not over the case.
  const pane = await panel(mark.page).boundingBox();
  const win = await chat.boundingBox();
  expect(pane && win).toBeTruthy();
  expect(pane!.x + pane!.width).toBeLessThanOrEqual(win!.x);

  await button(panel(mark.page), 'Resolve').click();
  const form = panel(mark.page).locator('form.settle-form');
  await expect(form.getByLabel('No refund')).toBeFocused();
  // Nothing chosen, nothing written: each field says what is missing.
  await form.getByLabel('Partial refund').check();
  await button(form, 'Continue').click();
  await expect(form.locator('.error:visible')).toHaveCount(2);
  await expect(form.getByLabel(/Refund amount/)).toBeFocused();
  await expect(form.getByLabel(/Refund amount/)).toHaveAttribute('aria-invalid', 'true');

  await form.getByLabel(/Refund amount/).fill('45.00');
  await form.getByLabel('Note for both parties').fill(NOTE);
  expect(await violations(mark.page)).toEqual([]);
  await shot(mark.page, '40-disputes-settle-form');
  await button(form, 'Continue').click();
  await expect(form.locator('.act-question')).toHaveText(/^Resolve with Partial refund of 45\.00 [A-Z]{3}\?$/);
  await expect(button(form, 'Back')).toBeFocused();
  // Back keeps what was typed.
  await button(form, 'Back').click();
  await expect(form.getByLabel(/Refund amount/)).toHaveValue('45.00');
  await button(form, 'Continue').click();
  await button(form, 'Confirm').click();

  // Settled: the panel says how, Alice's chat says it too.
  await expect(panel(mark.page).locator('.case')).toHaveAttribute('data-status', 'resolved');
  await expect(panel(mark.page).locator('.case-outcome')).toHaveText(/^Partial refund of 45\.00 [A-Z]{3}$/);
  await expect(panel(mark.page).locator('.case-note')).toContainText(NOTE);
  const line = popup(alice.page).locator('.msg.system', { hasText: 'resolved the dispute' });
  await expect(line).toContainText(/Mark Manager resolved the dispute: Partial refund of 45\.00 [A-Z]{3}\./);
  await expect(line.locator('.sys-typed')).toContainText(NOTE);
  // It left the open queues, both of them.
  for (const a of [lena, mark]) await expect(caseRow(a.page)).toHaveCount(0);
  await button(mark.page.locator('.case-queue .segmented'), 'Resolved').click();
  await expect(caseRow(mark.page)).toBeVisible();
  await shot(mark.page, '41-disputes-console');
});

test('the transcript, downloaded and printed, verifies; a forged copy does not', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobchat-transcript-'));
  await expect(panel(mark.page).getByRole('link', { name: 'CSV' })).toHaveAttribute('download', '');
  const [download] = await Promise.all([
    mark.page.waitForEvent('download'),
    panel(mark.page).getByRole('link', { name: 'JSON' }).click(),
  ]);
  const json = path.join(dir, 'transcript.json');
  await download.saveAs(json);
  const href = await panel(mark.page).getByRole('link', { name: 'Transcript (print)' }).getAttribute('href');
  const res = await mark.page.request.get(href!);
  expect(res.ok()).toBe(true);
  expect(res.headers()['content-type']).toContain('text/html');
  // Its print stylesheet is served from the site root (public/).
  expect((await mark.page.request.get('/transcript.css')).ok()).toBe(true);
  const html = path.join(dir, 'transcript.html');
  writeFileSync(html, await res.body());

  // The key anyone can fetch (no account) is the one it is signed with.
  const published = await (await mark.page.request.get('/api/transcripts/key')).json();
  expect(published.alg).toBe('Ed25519');
  for (const file of [json, html]) {
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(SAID);
    const ok = verify(file);
    expect(ok.status, ok.out).toBe(0);
    expect(ok.out).toMatch(/^OK/m);
    const anywhere = verify(file, '--key', published.key);
    expect(anywhere.status, anywhere.out).toBe(0);
    expect(anywhere.out).toContain(published.key);

    const forged = file.replace(/(\.\w+)$/, '-forged$1');
    // Changed wherever it appears (the HTML's table and its embedded
    // data alike), as a careful forger would.
    writeFileSync(forged, text.split(SAID).join(FORGED));
    const bad = verify(forged);
    expect(bad.status, bad.out).not.toBe(0);
  }
});
