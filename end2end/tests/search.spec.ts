// Searching messages from the dashboard: hits with the words marked, a
// hit opens its chat scrolled to the message (reading older pages when it
// is far back), and the list comes back.
import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 12, 'search');
const shots = path.resolve(__dirname, '..', 'artifacts');

test.describe.configure({ mode: 'serial' });

const JOB = 'Fix the kitchen sink';
let alice: Actor, bob: Actor;

test.beforeAll(async ({ browser }) => {
  await server.start();
  alice = await signIn(browser, server, 'alice@demo.test');
  bob = await signIn(browser, server, 'bob@demo.test');
});

test.afterAll(async () => {
  for (const a of [alice, bob]) await a?.context.close();
  await server.stop();
});

const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });

async function search(page: Page, q: string) {
  await page.getByRole('searchbox', { name: 'Search messages' }).fill(q);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
}

/** Sends `texts` to the chat through a second Socket.IO connection of the
 * page's own session (the official client the page loaded), acked one by
 * one; a send refused for the per-socket rate goes again shortly. */
async function sendMany(page: Page, chatId: number, texts: string[]) {
  await page.evaluate(
    async ({ chatId, texts }) => {
      const io = (window as any).io;
      const s = io({ forceNew: true });
      await new Promise<void>((resolve, reject) => {
        s.on('connect', () => resolve());
        s.on('connect_error', (e: Error) => reject(e));
      });
      for (const content of texts) {
        const clientId = crypto.randomUUID();
        for (;;) {
          const ack = await s.timeout(10_000).emitWithAck('send_message', { chatId, content, clientId });
          if (ack.ok) break;
          if (ack.error?.code !== 'rate_limited') throw new Error(JSON.stringify(ack));
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      s.disconnect();
    },
    { chatId, texts },
  );
}

test('a search shows the hits with the words marked, and opens the chat at the message', async () => {
  const text = 'Our gate code is 4821, use the side entrance';
  await row(alice.page).click();
  const box = popup(alice.page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(alice.page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);

  await search(bob.page, 'Gate CODE');
  const hits = bob.page.locator('.search-hit');
  await expect(hits).toHaveCount(1);
  await expect(bob.page.locator('.search-status')).toHaveText('1 message found for “Gate CODE”.');
  await expect(hits.first().locator('mark')).toHaveText(['gate', 'code']);
  await expect(hits.first()).toContainText(JOB);
  await expect(hits.first()).toContainText('Alice');
  // The list is out of the way while the hits show.
  await expect(row(bob.page)).toHaveCount(0);
  const axe = await new AxeBuilder({ page: bob.page }).include('.board').analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);
  await bob.page.screenshot({ path: path.join(shots, '13-search.png') });

  // On a phone the hits fit the screen's width.
  await bob.page.setViewportSize({ width: 375, height: 667 });
  expect(await bob.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await bob.page.screenshot({ path: path.join(shots, '14-search-phone.png') });
  await bob.page.setViewportSize({ width: 1280, height: 800 });

  await hits.first().click();
  const found = popup(bob.page).locator('.msg', { hasText: text });
  await expect(found).toHaveClass(/jumped/);
  await expect(found).toBeInViewport();

  // Nothing found says so; a query with no word is refused in words.
  await search(bob.page, 'zebra');
  await expect(bob.page.locator('.search-status')).toHaveText('No messages found for “zebra”.');
  await search(bob.page, '***');
  await expect(bob.page.locator('.search-status')).toContainText('must contain a word');
  await bob.page.getByRole('button', { name: 'Back to the chats' }).click();
  await expect(row(bob.page)).toBeVisible();
});

test('a hit far back in a long chat is read in and scrolled to', async () => {
  const chatId = Number(await row(alice.page).getAttribute('data-chat-id'));
  const first = 'The warranty number is WX-77 for the old boiler';
  await sendMany(alice.page, chatId, [first, ...Array.from({ length: 130 }, (_, i) => `Filler message ${i + 1}`)]);
  await bob.page.reload();
  await expect(bob.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await search(bob.page, 'warranty');
  await expect(bob.page.locator('.search-hit')).toHaveCount(1);
  await bob.page.locator('.search-hit').click();
  // 131 newer messages: the window reads pages back until it holds it.
  const found = popup(bob.page).locator('.msg', { hasText: first });
  await expect(found).toHaveClass(/jumped/);
  await expect(found).toBeInViewport();
  // Everything between is there, each once.
  const texts = await popup(bob.page).locator('.msg-text').allTextContents();
  const fillers = texts.filter((t) => t.startsWith('Filler message '));
  expect(fillers).toEqual(Array.from({ length: 130 }, (_, i) => `Filler message ${i + 1}`));
});
