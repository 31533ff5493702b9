// The database goes away under a running server: the browser keeps the
// message it could not store ("Sending…", never "Not sent"), and delivers it
// once, by itself, when the database is back. The server runs on a
// PostgreSQL cluster of this spec's own, which it stops and starts.
import { test, expect, Page } from '@playwright/test';
import { Server } from '../support/server';
import { Actor, framesSince, signIn } from '../support/actors';
import { PrivatePostgres } from '../support/postgres';

const base = Number(process.env.E2E_PORT ?? 3100);
const pg = new PrivatePostgres(base + 30);
const server = new Server(base + 8, 'outage', { DATABASE_URL: pg.url });

test.describe.configure({ mode: 'serial' });

const SEEDED = 'Fix the kitchen sink';
let customer: Actor, provider: Actor;

const popup = (page: Page) => page.locator('.popup', { hasText: SEEDED });
const lines = (page: Page, text: string) => popup(page).locator('.msg', { hasText: text });

test.beforeAll(async ({ browser }) => {
  pg.init();
  await server.start();
  customer = await signIn(browser, server, 'alice@demo.test');
  provider = await signIn(browser, server, 'bob@demo.test');
});

test.afterAll(async () => {
  for (const a of [customer, provider]) await a?.context.close();
  await server.stop();
  pg.destroy();
});

test('a message sent while the database is down waits, then arrives once', async () => {
  for (const a of [customer, provider]) {
    await a.page.locator('.chat-row', { hasText: SEEDED }).click();
    await expect(popup(a.page)).toBeVisible();
  }
  await expect(customer.page.locator('.connection')).toHaveAttribute('data-transport', 'websocket');
  pg.stop();
  const text = 'Sent while the database was down';
  const from = customer.frames.length;
  const box = popup(customer.page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  const mine = popup(customer.page).locator('.msg.mine', { hasText: text });
  // Refused `unavailable` (after ~3 s) and sent again with backoff: still
  // queued, never given up.
  const sends = () => framesSince(customer, from).filter((f) => f.dir === 'out' && f.payload.includes(text));
  const refusals = () =>
    framesSince(customer, from).filter((f) => f.dir === 'in' && f.payload.startsWith('43') && f.payload.includes('"unavailable"'));
  await expect.poll(() => refusals().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  await expect.poll(() => sends().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  await expect(mine).toHaveAttribute('data-state', 'sending');
  await expect(popup(customer.page).getByRole('button', { name: 'Retry' })).toHaveCount(0);
  expect(
    await customer.page.evaluate((t) => Object.keys(localStorage).some((k) => k.endsWith(':outbox') && localStorage.getItem(k)!.includes(t)), text),
  ).toBe(true);
  await expect(lines(provider.page, text)).toHaveCount(0);

  pg.start();
  await expect(mine).toHaveAttribute('data-state', /sent|read/, { timeout: 30_000 });
  await expect(lines(provider.page, text)).toHaveCount(1);
  // Once, also after a reload.
  await provider.page.reload();
  await expect(popup(provider.page)).toBeVisible();
  await expect(lines(provider.page, text)).toHaveCount(1);
  await expect(lines(customer.page, text)).toHaveCount(1);
});
