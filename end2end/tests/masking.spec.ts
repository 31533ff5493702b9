// Contact masking, side by side: the provider tries five ways to pass a
// phone number or an address; the customer sees none of them, live and
// after a reload, only markers; the provider is told once why; the LSM of
// a dispute opens "Versions" on each and reads what was written.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { violations } from '../support/axe';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 15, 'masking', {});
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

// The demo data's chat between Alice (customer) and Bob (provider).
const JOB = 'Fix the kitchen sink';
const TRIES = [
  'Easier by phone: 0176 1234 5678',
  'zero one seven six, one two three four, five six seven eight',
  'or 0 1 7 6 - 1 2 3 4 - 5 6 7 8 if that is easier',
  'mail me: bob.fixes at gmail dot com',
  'my insta: bob.fixes',
];
// What none of the customer's screen may show.
const LEAKS = /1234|5678|bob\.fixes|gmail/;

let customer: Actor, provider: Actor, lsm: Actor;

const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);
const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });
const button = (scope: Locator, name: string) => scope.getByRole('button', { name, exact: true });

async function open(a: Actor) {
  await row(a.page).click();
  await expect(popup(a.page).locator('.msg').first()).toBeVisible();
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
  for (const a of [customer, provider]) await open(a);
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm]) await a?.context.close();
  await server.stop();
});

test('five tries to pass a contact reach the customer as markers only', async () => {
  const mine = popup(provider.page).locator('.msg.mine');
  const before = await mine.count();
  for (const [i, text] of TRIES.entries()) {
    const box = popup(provider.page).getByLabel('Message', { exact: true });
    await box.fill(text);
    await box.press('Enter');
    // Stored: the bubble now shows what the server stored, with markers.
    const sent = mine.nth(before + i);
    await expect(sent).toHaveAttribute('data-state', /sent|read/);
    await expect(sent.locator('.msg-text')).toContainText('hidden');
  }
  // The provider is told once, under the first.
  await expect(popup(provider.page).locator('.msg-note')).toHaveCount(1);
  await expect(popup(provider.page).locator('.msg-note')).toContainText('hidden in this chat');
  expect(await violations(provider.page)).toEqual([]);
  await provider.page.screenshot({ path: path.join(shots, '23-masking-provider.png') });

  const theirs = popup(customer.page).locator('.msg.theirs');
  await expect(theirs.filter({ hasText: 'hidden' })).toHaveCount(TRIES.length);
  await expect(popup(customer.page)).not.toContainText(LEAKS);
  await expect(popup(customer.page).locator('.msg-note')).toHaveCount(0);
  await expect(button(popup(customer.page), 'Versions')).toHaveCount(0);
  await customer.page.screenshot({ path: path.join(shots, '24-masking-customer.png') });

  // After a reload too (history from the server, not this tab's memory).
  await customer.page.reload();
  await open(customer);
  await expect(popup(customer.page).locator('.msg.theirs').filter({ hasText: 'hidden' })).toHaveCount(TRIES.length);
  await expect(popup(customer.page)).not.toContainText(LEAKS);
  // The chat list's preview as well.
  await expect(row(customer.page)).not.toContainText(LEAKS);
});

test('the LSM of a dispute reads what was written', async ({ browser }) => {
  const page = customer.page;
  await button(popup(page), 'Add LSM').click();
  await popup(page).getByLabel('What is the disagreement about?').fill('Bob wants to be paid outside the app.');
  await button(popup(page), 'Add LSM to this chat').click();
  await expect(popup(page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();

  lsm = await signIn(browser, 'lena@demo.test');
  await open(lsm);
  const masked = popup(lsm.page).locator('.msg', { hasText: 'hidden' });
  await expect(masked).toHaveCount(TRIES.length);
  // The chat itself shows the LSM the markers too; "Versions" the words.
  await expect(popup(lsm.page).locator('.msg-text').filter({ hasText: LEAKS })).toHaveCount(0);
  for (const [i, text] of TRIES.entries()) {
    const m = masked.nth(i);
    await button(m, 'Versions').click();
    await expect(m.locator('.version .version-text')).toHaveText([text]);
  }
  await masked.last().scrollIntoViewIfNeeded();
  expect(await violations(lsm.page)).toEqual([]);
  await lsm.page.screenshot({ path: path.join(shots, '25-masking-lsm.png') });
});
