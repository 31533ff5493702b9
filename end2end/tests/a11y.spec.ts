// Keyboard and screen readers: focus moves into a chat window and back,
// Escape closes windows and the bell's dialog, the dialog keeps focus
// inside, the message list is a live log that reads each new message out
// once; and axe finds nothing on the dashboard, an open chat and the LSM's
// view.
import { test, expect, Browser, Page } from '@playwright/test';
import { violations } from '../support/axe';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 9, 'a11y');

test.describe.configure({ mode: 'serial' });

// The demo data's chat between Alice and Bob.
const DEMO = 'Fix the kitchen sink';

let customer: Actor, provider: Actor, lsm: Actor;

const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);
const popup = (page: Page) => page.locator('.popup', { hasText: DEMO });
const row = (page: Page) => page.locator('.chat-row', { hasText: DEMO });

/** Whether the focused element is inside `selector`. */
const focusIn = (page: Page, selector: string) =>
  page.evaluate((sel) => !!document.activeElement?.closest(sel), selector);

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm]) await a?.context.close();
  await server.stop();
});

test('axe: the dashboard has no violations', async () => {
  expect(await violations(customer.page)).toEqual([]);
});

test('a chat opened from the keyboard takes the focus, and Escape gives it back', async () => {
  const page = customer.page;
  await row(page).focus();
  await page.keyboard.press('Enter');
  await expect(popup(page).getByLabel('Message')).toBeFocused();
  await expect(popup(page).locator('.msg').first()).toBeVisible();
  expect(await violations(page)).toEqual([]);

  await page.keyboard.press('Escape');
  await expect(popup(page)).toHaveCount(0);
  await expect(row(page)).toBeFocused();

  // The close button does the same.
  await page.keyboard.press('Enter');
  await expect(popup(page).getByLabel('Message')).toBeFocused();
  await popup(page).getByRole('button', { name: 'Close chat' }).click();
  await expect(row(page)).toBeFocused();
});

test('the bell is a dialog: focus moves in, Tab stays inside, Escape closes it', async () => {
  const page = provider.page;
  const bell = page.getByRole('button', { name: /Notifications/ });
  await bell.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Notifications' });
  await expect(dialog).toBeVisible();
  await expect.poll(() => focusIn(page, '.bell-panel')).toBe(true);
  const stops = await dialog.locator('button').count();
  // Round the dialog and once more, both ways: focus never leaves it.
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i <= stops; i++) {
      await page.keyboard.press(key);
      expect(await focusIn(page, '.bell-panel')).toBe(true);
    }
  }
  await expect(dialog.getByRole('button', { name: 'Mark all read' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Mark all read' }).focus();
  await page.keyboard.press('Shift+Tab');
  await expect(dialog.locator('button').last()).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Mark all read' })).toBeFocused();

  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(bell).toBeFocused();
});

test('the message list is a live log: each new message is added once', async () => {
  for (const p of [customer.page, provider.page]) {
    await row(p).click();
    await expect(popup(p).locator('.msg').first()).toBeVisible();
  }
  const page = customer.page;
  const log = popup(page).getByRole('log', { name: 'Conversation' });
  await expect(log).toHaveAttribute('aria-live', 'polite');
  await expect(log.locator('.msg', { hasText: 'Perfect, see you then.' })).toBeVisible();
  // Record every message row put into the log, and what the page-wide
  // live region says.
  await page.evaluate(() => {
    const w = window as unknown as { added: string[]; announced: string[] };
    w.added = [];
    w.announced = [];
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes)
          if (n instanceof HTMLElement) for (const m of [n, ...n.querySelectorAll('.msg')]) if (m.matches('.msg')) w.added.push(m.textContent ?? '');
    }).observe(document.querySelector('.popup [role=log]')!, { childList: true, subtree: true });
    new MutationObserver(() => {
      w.announced.push(document.querySelector('body > .sr-only[aria-live]')?.textContent ?? '');
    }).observe(document.querySelector('body > .sr-only[aria-live]')!, { childList: true, subtree: true, characterData: true });
  });

  await popup(provider.page).getByLabel('Message').fill('Ping from Bob');
  await popup(provider.page).getByLabel('Message').press('Enter');
  await expect(log.locator('.msg.theirs', { hasText: 'Ping from Bob' })).toBeVisible();
  await popup(page).getByLabel('Message').fill('Pong from Alice');
  await popup(page).getByLabel('Message').press('Enter');
  const mine = log.locator('.msg.mine', { hasText: 'Pong from Alice' });
  // Sending…, then its ack, then Bob reads it: the same row all along.
  await expect(mine).toHaveAttribute('data-state', 'read');
  await expect(popup(provider.page).locator('.msg.theirs', { hasText: 'Pong from Alice' })).toBeVisible();

  const { added, announced } = await page.evaluate(() => {
    const w = window as unknown as { added: string[]; announced: string[] };
    return { added: w.added, announced: w.announced };
  });
  expect(added.filter((t) => t.includes('Ping from Bob'))).toHaveLength(1);
  expect(added.filter((t) => t.includes('Pong from Alice'))).toHaveLength(1);
  // Not read out a second time by the page's own live region.
  expect(announced.filter((t) => t.includes('Ping from Bob'))).toEqual([]);
});

test('axe: the LSM view, with the dispute chat open, has no violations', async ({ browser }) => {
  const page = customer.page;
  await popup(page).getByRole('button', { name: 'Add LSM' }).click();
  await popup(page).getByLabel('What is the disagreement about?').fill('The drain is still slow after the visit.');
  await popup(page).getByRole('button', { name: 'Add LSM to this chat' }).click();
  await expect(popup(page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();
  expect(await violations(page)).toEqual([]);

  lsm = await signIn(browser, 'lena@demo.test');
  await row(lsm.page).click();
  await expect(popup(lsm.page).locator('.msg', { hasText: 'Pong from Alice' })).toBeVisible();
  // The home page's settlement form, open beside the chat.
  await lsm.page.locator('.resolve').getByRole('button', { name: 'Resolve', exact: true }).click();
  await expect(lsm.page.getByLabel('Note for both parties')).toBeVisible();
  expect(await violations(lsm.page)).toEqual([]);
});
