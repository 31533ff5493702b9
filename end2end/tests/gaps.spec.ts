// Pub/sub is an optimisation, the database is the truth: this server loses
// every second `new_message` broadcast on purpose (JOBCHAT_FAULT_DROP_EVERY),
// and both browsers must still show every message once, in seq order, by
// fetching each gap as soon as a later message shows it.
import { test, expect, Page } from '@playwright/test';
import { Server } from '../support/server';
import { Actor, signIn } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 4, 'gaps', {
  JOBCHAT_FAULT_DROP_EVERY: '2',
});

test.describe.configure({ mode: 'serial' });

const SEEDED = 'Fix the kitchen sink';
let customer: Actor, provider: Actor;

const popup = (page: Page) => page.locator('.popup', { hasText: SEEDED });

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, server, 'alice@demo.test');
  provider = await signIn(browser, server, 'bob@demo.test');
});

test.afterAll(async () => {
  for (const a of [customer, provider]) await a?.context.close();
  await server.stop();
});

test('lost broadcasts leave no hole: each browser fetches the gap at once', async () => {
  for (const a of [customer, provider]) {
    await a.page.locator('.chat-row', { hasText: SEEDED }).click();
    await expect(popup(a.page)).toBeVisible();
  }
  const sent: string[] = [];
  for (let i = 1; i <= 7; i++) {
    const text = `numbered ${i} of 7`;
    const from = i % 2 ? provider : customer;
    const box = popup(from.page).getByLabel('Message');
    await box.fill(text);
    await box.press('Enter');
    await expect(popup(from.page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
    sent.push(text);
  }
  // Every message exactly once, in the order sent, on both sides.
  for (const a of [customer, provider]) {
    for (const text of sent) {
      await expect(popup(a.page).locator('.msg', { hasText: text })).toHaveCount(1);
    }
    const shown = await popup(a.page).locator('.msg', { hasText: /numbered \d of 7/ }).allTextContents();
    const order = shown.map((t) => Number(/numbered (\d)/.exec(t)?.[1]));
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7]);
  }
});

test('the last message of a conversation, lost on the way, arrives when the window gets focus', async () => {
  // Seqs so far: the booking line, three demo lines and seven numbered
  // ones; this is seq 12, and every even seq's broadcast is dropped, so no
  // later message will ever reveal the gap.
  const text = 'the last word, lost on the way';
  const box = popup(provider.page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(provider.page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
  // Coming back to the window resyncs its open chats by seq.
  await customer.page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(popup(customer.page).locator('.msg', { hasText: text })).toHaveCount(1);
});
