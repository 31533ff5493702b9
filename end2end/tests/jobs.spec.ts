// A job's steps in the chat, side by side, with contact masking set to
// `until_started`: the customer sees the provider's number hidden while the
// job is booked and confirmed, and as written once the provider started it.
// The status pill follows live on both screens; the customer's Cancel asks
// first and is gone once the job started.
import { test, expect, Browser, Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { violations } from '../support/axe';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 17, 'jobs', {
  JOBCHAT_CONTACT_MASKING: 'until_started',
});
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

const JOB = 'Fix the kitchen sink';
const NUMBER = 'my mobile is 0176 1234 5678';

let customer: Actor, provider: Actor;

const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);
const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const pill = (page: Page) => popup(page).locator('.pill-job');
const button = (page: Page, name: string) => popup(page).getByRole('button', { name, exact: true });

async function send(a: Actor, text: string) {
  const box = popup(a.page).getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  // Stored: nothing of the sender's is still sending (the stored text may
  // be masked, so it is not looked for).
  await expect(popup(a.page).locator('.msg.mine').last()).toHaveAttribute('data-state', /sent|read/);
  await expect(popup(a.page).locator('.msg.mine[data-state="sending"]')).toHaveCount(0);
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
  for (const a of [customer, provider]) {
    await a.page.locator('.chat-row', { hasText: JOB }).click();
    await expect(popup(a.page).locator('.msg').first()).toBeVisible();
  }
});

test.afterAll(async () => {
  for (const a of [customer, provider]) await a?.context.close();
  await server.stop();
});

test('each party sees the steps that are theirs', async () => {
  for (const a of [customer, provider]) await expect(pill(a.page)).toHaveText(/Booked/);
  await expect(button(provider.page, 'Confirm booking')).toBeVisible();
  await expect(button(provider.page, 'Cancel booking')).toHaveCount(0);
  await expect(button(customer.page, 'Cancel booking')).toBeVisible();
  await expect(button(customer.page, 'Start job')).toHaveCount(0);
  expect(await violations(provider.page)).toEqual([]);
});

test('booked and confirmed: the number is hidden; started: it is not', async () => {
  await send(provider, NUMBER);
  await expect(popup(customer.page).locator('.msg.theirs', { hasText: '[phone number hidden]' })).toHaveCount(1);

  await button(provider.page, 'Confirm booking').click();
  for (const a of [customer, provider]) {
    await expect(pill(a.page)).toHaveText(/Confirmed/);
    await expect(popup(a.page).locator('.msg.system', { hasText: 'confirmed the booking' })).toHaveCount(1);
  }
  await send(provider, NUMBER);
  await expect(popup(customer.page).locator('.msg.theirs', { hasText: '[phone number hidden]' })).toHaveCount(2);

  await button(provider.page, 'Start job').click();
  for (const a of [customer, provider]) await expect(pill(a.page)).toHaveText(/In progress/);
  // Too late to cancel now.
  await expect(button(customer.page, 'Cancel booking')).toHaveCount(0);
  await send(provider, NUMBER);
  await expect(popup(customer.page).locator('.msg.theirs', { hasText: '0176 1234 5678' })).toHaveCount(1);
  await customer.page.screenshot({ path: path.join(shots, '34-job-started.png') });

  await button(provider.page, 'Mark completed').click();
  for (const a of [customer, provider]) {
    await expect(pill(a.page)).toHaveText(/Completed/);
    await expect(popup(a.page).locator('.msg.system', { hasText: 'completed the job' })).toHaveCount(1);
  }
  await expect(popup(provider.page).locator('.job-steps button')).toHaveCount(0);
});

test('the status survives a reload', async () => {
  await customer.page.reload();
  await expect(customer.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(pill(customer.page)).toHaveText(/Completed/);
});
