// The seed's flows end to end, with three browsers side by side (customer,
// provider, LSM) and a fourth user who must never see any of it.
import { test, expect, Browser, Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, drained, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 1, 'chat');
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

const JOB = `Replace the bathroom tap ${Date.now() % 100000}`;

let customer: Actor, provider: Actor, lsm: Actor, outsider: Actor;

const signIn = (browser: Browser, email: string, viewport?: { width: number; height: number }) =>
  signInAs(browser, server, email, { viewport });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });

async function send(page: Page, text: string) {
  const box = popup(page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
  lsm = await signIn(browser, 'lena@demo.test');
  outsider = await signIn(browser, 'carol@demo.test');
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm, outsider]) await a?.context.close();
  await server.stop();
});

test('customer books a job and its chat opens at once', async () => {
  const page = customer.page;
  await shot(page, '01-customer-dashboard');
  await page.getByLabel('Bob Plumber').check();
  await page.getByLabel('What do you need done?').fill(JOB);
  await page.getByLabel('Details (optional)').fill('The hot tap drips all night.');
  await page.getByRole('button', { name: 'Book and open chat' }).click();
  await expect(popup(page)).toBeVisible();
  await expect(popup(page).locator('.msg.system')).toContainText(`Job booked: ${JOB}`);
  // The provider's list shows the new chat live.
  await expect(row(provider.page)).toBeVisible();
  await shot(page, '02-chat-opened');
});

test('a message shows at once for the sender and within a second at the provider', async () => {
  await row(provider.page).click();
  await expect(popup(provider.page)).toBeVisible();
  await send(customer.page, 'Hi Bob, can you come tomorrow?');
  // Optimistic: on screen before any answer, then confirmed.
  const mine = popup(customer.page).locator('.msg.mine', { hasText: 'can you come tomorrow' });
  await expect(mine).toBeVisible();
  await expect(mine).toHaveAttribute('data-state', /sent|read/);
  await expect(popup(provider.page).locator('.msg.theirs', { hasText: 'can you come tomorrow' })).toBeVisible({ timeout: 1_000 });
  // Exactly once on both sides.
  await expect(popup(customer.page).locator('.msg', { hasText: 'can you come tomorrow' })).toHaveCount(1);
  await expect(popup(provider.page).locator('.msg', { hasText: 'can you come tomorrow' })).toHaveCount(1);
  await shot(provider.page, '03-provider-receives');
});

test('typing shows for the other side and clears', async () => {
  const box = popup(provider.page).getByLabel('Message');
  await box.pressSequentially('Sure, ', { delay: 30 });
  await expect(popup(customer.page).locator('.typing')).toHaveText('Bob Plumber is typing…');
  await shot(customer.page, '04-typing');
  await box.fill('');
  await expect(popup(customer.page).locator('.typing')).toHaveText('');
  await send(provider.page, 'Sure, 9:00 works.');
  await expect(popup(customer.page).locator('.msg.theirs', { hasText: '9:00 works' })).toBeVisible();
});

test('history is there after a reload', async () => {
  await customer.page.reload();
  await expect(customer.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  // The popup comes back open, with its history.
  await expect(popup(customer.page).locator('.msg', { hasText: 'can you come tomorrow' })).toHaveCount(1);
  await expect(popup(customer.page).locator('.msg', { hasText: '9:00 works' })).toHaveCount(1);
});

test('message text is text: no HTML injection', async () => {
  const evil = '<img src=x onerror=alert(1)>';
  await send(customer.page, evil);
  await expect(popup(provider.page).locator('.msg.theirs', { hasText: evil })).toBeVisible();
  // No element was made of it, so no handler of it can ever run.
  await expect(popup(provider.page).locator('.msg img')).toHaveCount(0);
  await expect(popup(customer.page).locator('.msg img')).toHaveCount(0);
  expect(customer.dialogs).toEqual([]);
  expect(provider.dialogs).toEqual([]);
});

test('Add LSM: the LSM is notified live, joins, and is heard by both', async () => {
  await popup(customer.page).getByRole('button', { name: 'Add LSM' }).click();
  await popup(customer.page).getByLabel('What is the disagreement about?').fill('The tap still drips after the visit.');
  await popup(customer.page).getByRole('button', { name: 'Add LSM to this chat' }).click();
  await expect(popup(customer.page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();
  await expect(row(customer.page).locator('.pill-lsm')).toBeVisible();

  // Live at the LSM: the bell counts it, the dispute is listed.
  await expect(lsm.page.getByTestId('bell-count')).toHaveText('1');
  await expect(row(lsm.page)).toBeVisible();
  await shot(lsm.page, '05-lsm-notified');
  await lsm.page.getByRole('button', { name: /Notifications/ }).click();
  await lsm.page.locator('.bell-item', { hasText: JOB }).click();
  await expect(popup(lsm.page)).toBeVisible();
  await expect(popup(lsm.page).locator('.msg', { hasText: 'can you come tomorrow' })).toBeVisible();

  // Both others see the LSM in the chat, online.
  for (const other of [customer, provider]) {
    await expect(popup(other.page).locator('.popup-people .person', { hasText: 'Lena Manager' }).locator('.presence.online')).toBeVisible();
  }
  await send(lsm.page, 'Hello both, I will help settle this.');
  for (const other of [customer, provider]) {
    await expect(popup(other.page).locator('.msg.theirs', { hasText: 'I will help settle this' })).toBeVisible();
  }
  await shot(lsm.page, '06-lsm-view');
  await shot(customer.page, '07-chat-popup');
});

test('the fourth user never sees any of it', async () => {
  await outsider.page.reload();
  await expect(outsider.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(outsider.page.locator('.chat-list, .empty').first()).toBeVisible();
  await expect(outsider.page.getByText(JOB)).toHaveCount(0);
  await expect(outsider.page.getByTestId('bell-count')).toHaveCount(0);
  const res = await outsider.context.request.get('/api/chats');
  expect(JSON.stringify(await res.json())).not.toContain(JOB);
});

test('server restart: Reconnecting…, then Connected, and a message typed meanwhile arrives once', async () => {
  await server.stop();
  await expect(customer.page.locator('.connection')).toHaveAttribute('data-status', 'reconnecting');
  await expect(customer.page.locator('.connection [role=status]')).toContainText('Reconnecting');
  await shot(customer.page, '08-reconnecting');
  await send(customer.page, 'Typed while the server was down');
  const pending = popup(customer.page).locator('.msg.mine', { hasText: 'Typed while the server was down' });
  await expect(pending).toHaveAttribute('data-state', 'sending');

  await server.start(false);
  await expect(customer.page.locator('.connection')).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });
  await expect(provider.page.locator('.connection')).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });
  await expect(pending).toHaveAttribute('data-state', /sent|read/);
  await expect(popup(provider.page).locator('.msg', { hasText: 'Typed while the server was down' })).toHaveCount(1);
  // Re-joined: live messages flow again, both ways.
  await send(provider.page, 'Back online here too');
  await expect(popup(customer.page).locator('.msg', { hasText: 'Back online here too' })).toHaveCount(1);
  await expect(popup(customer.page).locator('.msg', { hasText: 'Typed while the server was down' })).toHaveCount(1);
});

test('a reload while offline keeps the unsent message and sends it later', async () => {
  const page = customer.page;
  await customer.context.setOffline(true);
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'offline');
  await expect(page.locator('.connection [role=status]')).toHaveText('Offline');
  await send(customer.page, 'Queued while offline');
  await expect(popup(page).locator('.msg.mine', { hasText: 'Queued while offline' })).toHaveAttribute('data-state', 'sending');
  expect(
    await page.evaluate(() =>
      Object.keys(localStorage).some((k) => k.endsWith(':outbox') && localStorage.getItem(k)!.includes('Queued while offline')),
    ),
  ).toBe(true);
  await shot(page, '10-offline');
  // Reloading while offline loses the page, not the message.
  await page.reload().catch(() => undefined);
  await customer.context.setOffline(false);
  await page.goto(server.baseURL + '/');
  await expect(popup(page).locator('.msg.mine', { hasText: 'Queued while offline' })).toBeVisible();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });
  await expect(popup(page).locator('.msg.mine', { hasText: 'Queued while offline' })).toHaveAttribute('data-state', /sent|read/);
  await expect(popup(page).locator('.msg', { hasText: 'Queued while offline' })).toHaveCount(1);
  await expect(popup(provider.page).locator('.msg', { hasText: 'Queued while offline' })).toHaveCount(1);
});

test('works at 375 px wide', async ({ browser }) => {
  const phone = await signIn(browser, 'alice@demo.test', { width: 375, height: 740 });
  await row(phone.page).click();
  await expect(popup(phone.page)).toBeVisible();
  await expect(popup(phone.page).locator('.msg', { hasText: 'Queued while offline' })).toBeVisible();
  const scroll = await phone.page.evaluate(() => document.documentElement.scrollWidth);
  expect(scroll).toBeLessThanOrEqual(375);
  const box = await popup(phone.page).boundingBox();
  expect(box && box.width).toBeLessThanOrEqual(375);
  await shot(phone.page, '09-phone');
  await phone.context.close();
});

test('the LSM settles the dispute and leaves: the transcript stays, read-only', async () => {
  // From the home page: an outcome, the note, then a confirmation.
  const box = lsm.page.locator('.resolve', { hasText: JOB });
  await box.getByRole('button', { name: 'Resolve', exact: true }).click();
  const form = box.locator('form.settle-form');
  // Cancel gives the button back, with the focus.
  await form.getByRole('button', { name: 'Cancel' }).click();
  await expect(form).toHaveCount(0);
  await expect(box.getByRole('button', { name: 'Resolve', exact: true })).toBeFocused();
  await box.getByRole('button', { name: 'Resolve', exact: true }).click();
  await form.getByLabel('No refund').check();
  await form.getByLabel('Note for both parties').fill('Provider comes back Friday at no charge.');
  await form.getByRole('button', { name: 'Continue' }).click();
  await expect(form.locator('.act-question')).toHaveText('Resolve with No refund?');
  // Nothing is settled before the confirmation.
  await expect(popup(customer.page).locator('.msg.system', { hasText: 'resolved the dispute' })).toHaveCount(0);
  await form.getByRole('button', { name: 'Confirm' }).click();
  for (const a of [customer, provider, lsm]) {
    await expect(popup(a.page).locator('.msg.system', { hasText: 'resolved the dispute' })).toBeVisible();
  }
  await expect(popup(lsm.page).locator('.left-note')).toContainText('left it');
  await expect(popup(lsm.page).getByLabel('Message')).toHaveCount(0);
  await expect(row(customer.page).locator('.pill-resolved')).toBeVisible();

  // What the two say next is theirs alone.
  await send(customer.page, 'Friday works, thanks');
  await expect(popup(provider.page).locator('.msg', { hasText: 'Friday works, thanks' })).toBeVisible();
  await expect(popup(customer.page).locator('.popup-people .person', { hasText: 'Lena Manager' })).toHaveCount(0);
  // The provider has it; anything queued for the LSM's socket with it has
  // arrived once a later ack has.
  await drained(lsm);
  expect(lsm.frames.filter((f) => f.payload.includes('Friday works, thanks'))).toEqual([]);
  await expect(popup(lsm.page).locator('.msg', { hasText: 'Friday works, thanks' })).toHaveCount(0);
  await shot(lsm.page, '11-lsm-left');

  // After a reload the window comes back as the transcript, quietly.
  await lsm.page.reload();
  await expect(lsm.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(popup(lsm.page).locator('.msg', { hasText: 'I will help settle this' })).toBeVisible();
  await expect(popup(lsm.page).locator('.left-note')).toBeVisible();
  await expect(popup(lsm.page).locator('.msg', { hasText: 'Friday works, thanks' })).toHaveCount(0);
  await drained(lsm);
  await expect(lsm.page.locator('.toast')).toHaveCount(0);
});

test('corrupt or foreign local data is discarded, never a crash', async () => {
  const page = customer.page;
  await page.evaluate(() => {
    for (const k of Object.keys(localStorage).filter((k) => k.startsWith('jobchat:'))) {
      localStorage.setItem(k, '{"not": "what we wrote"');
    }
    localStorage.setItem('jobchat:1:outbox', '[{"chatId":"x"}]');
    localStorage.setItem('jobchat:1:cache:1', '[{"id":-5}]');
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.reload();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await row(page).click();
  await expect(popup(page).locator('.msg', { hasText: 'Queued while offline' })).toHaveCount(1);
  await send(page, 'Still fine after a bad cache');
  await expect(popup(provider.page).locator('.msg', { hasText: 'Still fine after a bad cache' })).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('logout clears the session and the local data', async () => {
  const page = provider.page;
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(/\/login/);
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('jobchat:')).length)).toBe(0);
  const me = await provider.context.request.get('/api/me');
  expect(me.status()).toBe(401);
});
