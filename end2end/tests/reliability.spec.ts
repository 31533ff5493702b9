// Delivery guarantees under the conditions that break naive clients: a
// message landing while a chat is being opened, a user offline for a while,
// WebSocket blocked, chats whose windows are closed, and a message the
// server refuses. Customer (Alice) and provider (Bob) side by side, the LSM
// (Lena) when a dispute needs her.
import { test, expect, Browser, BrowserContext, Page } from '@playwright/test';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';
import { WebSocketGate, blockWebSocket } from '../support/websocket';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 2, 'reliability');

test.describe.configure({ mode: 'serial' });

// Seeded: Alice booked Bob for this job and they already talked.
const SEEDED = 'Fix the kitchen sink';
const LIVE = `Paint the fence ${Date.now() % 100000}`;

let customer: Actor, provider: Actor, lsm: Actor;
// Alice's WebSocket, with frames that can be held back.
const gate = new WebSocketGate();

const signIn = (browser: Browser, email: string, prepare?: (context: BrowserContext) => Promise<void>) =>
  signInAs(browser, server, email, { prepare });

const popup = (page: Page, job: string) => page.locator('.popup', { hasText: job });
const row = (page: Page, job: string) => page.locator('.chat-row', { hasText: job });
const lines = (page: Page, job: string, text: string) => popup(page, job).locator('.msg', { hasText: text });
// The screen-reader live region of the app root (not the typing line's).
const liveRegion = (page: Page) => page.locator('.sr-only[aria-live="polite"]');

// Each test can run on its own (`-g`): it opens the windows it needs.
async function ensureOpen(page: Page, job: string) {
  if ((await popup(page, job).count()) === 0) await row(page, job).click();
  await expect(popup(page, job)).toBeVisible();
}

async function send(page: Page, job: string, text: string) {
  const box = popup(page, job).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(page, job).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test', (c) => gate.install(c));
  provider = await signIn(browser, 'bob@demo.test');
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm]) await a?.context.close();
  await server.stop();
});

test('opening a chat never misses a message that lands while it joins', async () => {
  const page = customer.page;
  await row(provider.page, SEEDED).click();
  await expect(popup(provider.page, SEEDED)).toBeVisible();
  // Alice's socket runs over WebSocket, so her join goes through the gate.
  await expect.poll(() => gate.carrying, { timeout: 10_000 }).toBe(true);

  // Alice opens the chat, but her join_chat is held back: the window
  // between reading history and entering the room stays open.
  gate.hold(/^42\d*\["join_chat"/);
  const historyRead = page
    .waitForResponse((r) => r.url().includes('/sfn/messages'), { timeout: 5_000 })
    .catch(() => null);
  await row(page, SEEDED).click();
  await expect.poll(() => gate.heldCount).toBeGreaterThan(0);
  // Whatever history the page reads without the join has been read.
  await historyRead;

  await send(provider.page, SEEDED, 'Sent while Alice was joining');
  gate.release();

  await expect(lines(page, SEEDED, 'Sent while Alice was joining')).toHaveCount(1);
  await expect(lines(page, SEEDED, 'Hi Bob').first()).toBeVisible();
  // A later message arriving proves that a second copy of the earlier one
  // (from the join's catch-up or the live room) would have come first.
  await send(provider.page, SEEDED, 'After Alice joined');
  await expect(lines(page, SEEDED, 'After Alice joined')).toHaveCount(1);
  await expect(lines(page, SEEDED, 'Sent while Alice was joining')).toHaveCount(1);
});

test('the customer and the provider hear that the LSM joined', async ({ browser }) => {
  lsm = await signIn(browser, 'lena@demo.test');
  const page = customer.page;
  await ensureOpen(page, SEEDED);
  await ensureOpen(provider.page, SEEDED);
  await popup(page, SEEDED).getByRole('button', { name: 'Add LSM' }).click();
  await popup(page, SEEDED).getByLabel('What is the disagreement about?').fill('The sink still leaks.');
  await popup(page, SEEDED).getByRole('button', { name: 'Add LSM to this chat' }).click();
  await expect(popup(page, SEEDED).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();
  for (const other of [customer, provider]) {
    await expect(liveRegion(other.page)).not.toHaveText('Lena Manager joined the chat');
  }

  await row(lsm.page, SEEDED).click();
  await expect(popup(lsm.page, SEEDED)).toBeVisible();
  // Only `user_joined` says this; the presence dot was green before.
  for (const other of [customer, provider]) {
    await expect(liveRegion(other.page)).toHaveText('Lena Manager joined the chat');
  }
});

test('the chat list is live for chats whose window is closed', async () => {
  const page = customer.page;
  await page.getByRole('radio', { name: 'Bob Plumber' }).check();
  await page.getByLabel('What do you need done?').fill(LIVE);
  await page.getByRole('button', { name: 'Book and open chat' }).click();
  await expect(popup(page, LIVE)).toBeVisible();
  await popup(page, LIVE).getByRole('button', { name: 'Close chat' }).click();
  await expect(popup(page, LIVE)).toHaveCount(0);

  // Bob writes in the seeded chat (open at Alice's), then in the new one.
  await ensureOpen(page, SEEDED);
  await ensureOpen(provider.page, SEEDED);
  await expect(row(provider.page, LIVE)).toBeVisible();
  await send(provider.page, SEEDED, 'Seeded chat on top');
  await expect(page.locator('.chat-row').first()).toContainText(SEEDED);
  await row(provider.page, LIVE).click();
  await send(provider.page, LIVE, 'Are you home at noon?');

  // Without a reload: the closed chat's row moves up with the text and a badge.
  const first = page.locator('.chat-row').first();
  await expect(first).toContainText(LIVE);
  await expect(first).toContainText('Are you home at noon?');
  await expect(first.locator('.badge')).toBeVisible();
  await expect(popup(page, LIVE)).toHaveCount(0);
});

test('a message sent while the customer is offline arrives once she is back', async () => {
  const page = customer.page;
  await ensureOpen(page, SEEDED);
  await ensureOpen(provider.page, SEEDED);
  await customer.context.setOffline(true);
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'offline');
  // Stored (the provider saw "Sent") while Alice is offline.
  await send(provider.page, SEEDED, 'Sent while Alice was offline');
  await customer.context.setOffline(false);
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });
  await expect(lines(page, SEEDED, 'Sent while Alice was offline')).toHaveCount(1);
  // A later message proves a second copy of the earlier one would be in.
  await send(provider.page, SEEDED, 'After Alice came back');
  await expect(lines(page, SEEDED, 'After Alice came back')).toHaveCount(1);
  await expect(lines(page, SEEDED, 'Sent while Alice was offline')).toHaveCount(1);
});

test('with WebSocket blocked the app runs over long-polling, both ways', async ({ browser }) => {
  const polling = await signIn(browser, 'alice@demo.test', blockWebSocket);
  try {
    const page = polling.page;
    await expect(page.locator('.connection')).toHaveAttribute('title', /polling/);
    await ensureOpen(provider.page, SEEDED);
    await row(page, SEEDED).click();
    await expect(lines(page, SEEDED, 'Hi Bob')).toHaveCount(1);

    await send(page, SEEDED, 'Sent over long-polling');
    await expect(lines(provider.page, SEEDED, 'Sent over long-polling')).toHaveCount(1);
    await send(provider.page, SEEDED, 'Heard over long-polling');
    await expect(lines(page, SEEDED, 'Heard over long-polling')).toHaveCount(1);
    // Still polling: the blocked upgrade never happened.
    await expect(page.locator('.connection')).toHaveAttribute('title', /polling/);
  } finally {
    await polling.context.close();
  }
  // The normal context upgraded to WebSocket, and says so.
  await expect(customer.page.locator('.connection')).toHaveAttribute('title', /websocket/);
});

test('a message the server refuses stays "Not sent", with Retry, across reloads', async () => {
  const page = customer.page;
  await ensureOpen(page, SEEDED);
  await ensureOpen(provider.page, SEEDED);
  const chatId = Number(await row(page, SEEDED).getAttribute('data-chat-id'));
  const refused = 'Refused for being too long ' + 'x'.repeat(4_000);
  // Over the limit the composer enforces: only a tampered outbox sends it.
  await page.evaluate(
    async ({ chatId, refused }) => {
      const me = await (await fetch('/api/me')).json();
      const key = `jobchat:${me.id}:outbox`;
      const outbox = JSON.parse(localStorage.getItem(key) ?? '[]');
      outbox.push({ chatId, clientId: crypto.randomUUID(), content: refused, createdAt: new Date().toISOString() });
      localStorage.setItem(key, JSON.stringify(outbox));
    },
    { chatId, refused },
  );
  await page.reload();
  const line = popup(page, SEEDED).locator('.msg.mine', { hasText: 'Refused for being too long' });
  await expect(line).toHaveAttribute('data-state', 'failed');
  await expect(line.getByRole('button', { name: 'Retry' })).toBeVisible();

  // The queue goes on behind it.
  await send(page, SEEDED, 'Sent after the refused one');
  await expect(lines(provider.page, SEEDED, 'Sent after the refused one')).toHaveCount(1);

  await page.reload();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(line).toHaveCount(1);
  await expect(line).toHaveAttribute('data-state', 'failed');
  await expect(line.getByRole('button', { name: 'Retry' })).toBeVisible();
  await expect(lines(provider.page, SEEDED, 'Refused for being too long')).toHaveCount(0);

  // Discard removes it for good, across reloads too.
  await line.getByRole('button', { name: 'Discard' }).click();
  await expect(line).toHaveCount(0);
  await page.reload();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(popup(page, SEEDED).locator('.msg.mine', { hasText: 'Sent after the refused one' })).toHaveCount(1);
  await expect(line).toHaveCount(0);
});
