// Moderation (issue #23), side by side: a customer reports the provider's
// messages and the provider himself; each report reaches the LSM's open
// queue live with its evidence; the LSM warns (a system line both parties
// see live), removes a message ("Removed by a moderator" for the
// customer) and suspends the provider for 7 days (his open tab goes to
// sign-in, and signing in says why); the audit log lists it all and
// exports CSV. Then blocking: a blocked provider cannot be booked again.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { violations } from '../support/axe';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 16, 'moderation', {});
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

// The demo data's chat between Alice (customer) and Bob (provider).
const JOB = 'Fix the kitchen sink';
const OFF_PLATFORM = 'Pay me in cash outside the app and I knock a bit off';
const RUDE = 'You are a useless customer and I am done being polite';

let customer: Actor, provider: Actor, lsm: Actor;

const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);
const popup = (page: Page, job = JOB) => page.locator('.popup', { hasText: job });
const row = (page: Page, job = JOB) => page.locator('.chat-row', { hasText: job });
const button = (scope: Locator | Page, name: string) => scope.getByRole('button', { name, exact: true });
const item = (text: string) => lsm.page.locator('.mod-item', { hasText: text });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

async function open(a: Actor, job = JOB) {
  await row(a.page, job).click();
  await expect(popup(a.page, job).locator('.msg').first()).toBeVisible();
}

async function send(a: Actor, text: string) {
  const box = popup(a.page).getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(a.page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
}

/** Takes an action on a queue item: the reason, then the confirmation. */
async function act(on: Locator, action: string, label: string, reason: string, question: RegExp) {
  await button(on.locator('.mod-actions'), action).click();
  await on.getByLabel(label).fill(reason);
  await button(on, 'Continue').click();
  await expect(on.locator('.act-question')).toHaveText(question);
  await button(on.locator('.act-form'), action).click();
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
  lsm = await signIn(browser, 'lena@demo.test');
  for (const a of [customer, provider]) await open(a);
  await lsm.page.getByRole('link', { name: 'Moderation' }).click();
  await lsm.page.waitForURL(server.baseURL + '/moderation');
  await expect(lsm.page.getByRole('heading', { name: 'Queue' })).toBeVisible();
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm]) await a?.context.close();
  await server.stop();
});

test('a reported message reaches the open queue live, with its evidence', async () => {
  await send(provider, OFF_PLATFORM);
  await send(provider, RUDE);
  // Nobody reports their own messages.
  await expect(button(popup(provider.page).locator('.msg.mine').last(), 'Report')).toHaveCount(0);

  const bubble = popup(customer.page).locator('.msg.theirs', { hasText: OFF_PLATFORM });
  await button(bubble, 'Report').click();
  const form = bubble.locator('.report-form');
  await expect(form.getByRole('group', { name: 'What is wrong with this message?' })).toBeVisible();
  // The first category has the focus.
  await expect(form.getByLabel('Harassment')).toBeFocused();
  await form.getByLabel('Payment outside the platform').check();
  await form.getByLabel('Anything to add? (optional)').fill('He asked twice.');
  expect(await violations(customer.page)).toEqual([]);
  await shot(customer.page, '26-moderation-report-form');
  await button(form, 'Send report').click();
  await expect(bubble.locator('.msg-reported')).toHaveText('Report received. A local service manager will review it.');
  await expect(form).toHaveCount(0);

  // The LSM's open queue shows it without a reload.
  const it = item(OFF_PLATFORM);
  await expect(it).toBeVisible();
  await expect(it.locator('h3')).toContainText('Payment outside the platform');
  await expect(it.locator('.mod-evidence')).toContainText(OFF_PLATFORM);
  await expect(it.locator('.mod-note')).toContainText('He asked twice.');
  await expect(it.locator('.mod-facts')).toContainText('Bob Plumber');
  await expect(it.locator('.mod-facts')).toContainText('Alice Customer');
  await expect(it.locator('.mod-facts')).toContainText(JOB);
  await expect(it.locator('.mod-line.reported')).toContainText(OFF_PLATFORM);
  expect(await violations(lsm.page)).toEqual([]);
  await shot(lsm.page, '27-moderation-queue');
});

test('the LSM warns: both parties see the warning live', async () => {
  const it = item(OFF_PLATFORM);
  await act(it, 'Warn', 'Reason to warn', 'Payments stay in the app.', /^Warn Bob Plumber\?/);
  // Closed: the item leaves the open queue.
  await expect(it).toHaveCount(0);
  for (const a of [customer, provider]) {
    const line = popup(a.page).locator('.msg.system.warning');
    await expect(line).toContainText('warned');
    await expect(line).toContainText('Payments stay in the app.');
  }
  await shot(provider.page, '28-moderation-warning');
  // It is in the Actioned list.
  await button(lsm.page.locator('.segmented'), 'Actioned').click();
  await expect(item(OFF_PLATFORM)).toBeVisible();
  await button(lsm.page.locator('.segmented'), 'Open').click();
});

test('the LSM removes a message: "Removed by a moderator"', async () => {
  const bubble = popup(customer.page).locator('.msg.theirs', { hasText: RUDE });
  await button(bubble, 'Report').click();
  await bubble.getByLabel('Harassment').check();
  await button(bubble, 'Send report').click();
  await expect(bubble.locator('.msg-reported')).toBeVisible();

  const it = item(RUDE);
  await expect(it).toBeVisible();
  // A reason is required.
  await button(it.locator('.mod-actions'), 'Remove message').click();
  await button(it, 'Continue').click();
  await expect(it.locator('.act-form .error')).toContainText('reason');
  await button(it, 'Cancel').click();
  await act(it, 'Remove message', 'Reason to remove message', 'Insults are not allowed.', /^Remove this message/);
  await expect(it).toHaveCount(0);

  const removed = popup(customer.page).locator('.msg.theirs.deleted').last();
  await expect(removed).toContainText('Removed by a moderator');
  await expect(popup(customer.page)).not.toContainText(RUDE);
  await expect(popup(provider.page).locator('.msg.mine.deleted').last()).toContainText('Removed by a moderator');
});

test('the LSM suspends the provider for 7 days: his tab goes to sign-in', async () => {
  // A report about the person, from his card in the chat's header.
  const head = popup(customer.page).locator('.popup-people');
  await head.getByRole('button', { name: /Bob Plumber/ }).click();
  const card = popup(customer.page).locator('.person-card');
  await expect(card).toBeVisible();
  await button(card, 'Report').click();
  await card.getByLabel('Fraud').check();
  await card.getByLabel('Anything to add? (optional)').fill('Asked for a deposit and never came.');
  await button(card, 'Send report').click();
  await expect(card.locator('.card-done')).toHaveText('Report received. A local service manager will review it.');
  await button(card.locator('.card-body'), 'Done').click();

  const it = item('Asked for a deposit');
  await expect(it).toBeVisible();
  // A report about a person names no message to remove.
  await expect(button(it, 'Remove message')).toHaveCount(0);
  await button(it.locator('.mod-actions'), 'Suspend').click();
  await it.getByLabel('Reason to suspend').fill('Took deposits without doing the work.');
  await expect(it.getByLabel('Days')).toHaveValue('7');
  expect(await violations(lsm.page)).toEqual([]);
  await shot(lsm.page, '29-moderation-suspend');
  await button(it, 'Continue').click();
  await expect(it.locator('.act-question')).toContainText('Suspend Bob Plumber for 7 days?');
  await button(it.locator('.act-form'), 'Suspend').click();
  await expect(it).toHaveCount(0);

  // His open tab is signed out, and signing in says why.
  await provider.page.waitForURL(/\/login/);
  await provider.page.locator('body[data-hydrated]').waitFor();
  await provider.page.getByLabel('Email').fill('bob@demo.test');
  await provider.page.getByLabel('Password').fill('demo-password');
  await provider.page.getByRole('button', { name: 'Sign in' }).click();
  await expect(provider.page.locator('.error')).toContainText('suspended until');
  await shot(provider.page, '30-moderation-suspended-login');

  // The subject shows suspended in the closed item; it can be lifted there.
  await button(lsm.page.locator('.segmented'), 'Actioned').click();
  await expect(item('Asked for a deposit').locator('.tag-danger')).toContainText('Suspended until');
  await button(lsm.page.locator('.segmented'), 'Open').click();
});

test('the audit log lists the actions and exports CSV', async () => {
  const rows = lsm.page.locator('table.log tbody tr');
  await expect(rows.filter({ hasText: 'Suspended' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'Removed message' })).toContainText('Insults are not allowed.');
  await expect(rows.filter({ hasText: 'Warned' })).toContainText('Payments stay in the app.');
  await expect(rows.first()).toContainText('Lena Manager');
  await rows.first().scrollIntoViewIfNeeded();
  await shot(lsm.page, '31-moderation-log');
  const href = await lsm.page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  const res = await lsm.page.request.get(href!);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('text/csv');
  expect(await res.text()).toContain('Took deposits without doing the work.');
  // Not for anyone else.
  const other = await customer.page.request.get(href!);
  expect(other.status()).toBe(403);

  // On a phone the page fits the screen; the table scrolls on its own.
  await lsm.page.setViewportSize({ width: 375, height: 667 });
  await button(lsm.page.locator('.segmented'), 'Actioned').click();
  await expect(lsm.page.locator('.mod-item').first()).toBeVisible();
  expect(await lsm.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await shot(lsm.page, '33-moderation-phone');
  await button(lsm.page.locator('.segmented'), 'Open').click();
  await lsm.page.setViewportSize({ width: 1280, height: 800 });
});

test('a blocked provider cannot be booked again', async ({ browser }) => {
  const carol = await signIn(browser, 'carol@demo.test');
  const job = `Hang the kitchen lights ${Date.now() % 100000}`;
  const page = carol.page;
  const book = async (title: string) => {
    await page.getByLabel('Dave Electrician').check();
    await page.getByLabel('What do you need done?').fill(title);
    await button(page, 'Book and open chat').click();
  };
  await book(job);
  await expect(popup(page, job).locator('.msg.system')).toContainText('Job booked');

  await popup(page, job).locator('.popup-people').getByRole('button', { name: /Dave Electrician/ }).click();
  const card = popup(page, job).locator('.person-card');
  await button(card, 'Block').click();
  await expect(card.locator('.card-question')).toContainText(
    "They can't book you or start a new chat with you, and their messages won't ring your bell. Blocks are private.",
  );
  await card.getByLabel('Also ask a local service manager to settle this job').check();
  expect(await violations(page)).toEqual([]);
  await shot(page, '32-moderation-block');
  await button(card, 'Block').click();
  // Blocked, and the dispute form opens with the focus in it.
  const reason = popup(page, job).getByLabel('What is the disagreement about?');
  await expect(reason).toBeFocused();
  await expect(popup(page, job).locator('.popup-people')).toContainText('blocked');
  await button(popup(page, job).locator('.dispute-form'), 'Cancel').click();

  await book(`${job} again`);
  await expect(page.locator('form.book .error')).toContainText('cannot be booked');
  await carol.context.close();
});
