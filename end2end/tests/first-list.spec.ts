// When the server cannot read the chat list for the page it renders (here:
// the reads rate limit is spent), the page says so with "Try again" and
// stays alive (hydration follows what the server sent), instead of
// "Loading chats…" for good; "Try again" brings the list once reads are
// allowed again.
import { test, expect } from '@playwright/test';
import { Server } from '../support/server';
import { Actor, signIn } from '../support/actors';

// Two reads a minute, in bursts of two: signing in spends them (the page's
// list, then the live list), so a reload's list is refused.
const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 21, 'first-list', {
  JOBCHAT_READ_LIMIT_PER_USER_PER_MIN: '2',
});

let alice: Actor;

test.beforeAll(async ({ browser }) => {
  await server.start();
  alice = await signIn(browser, server, 'alice@demo.test');
});

test.afterAll(async () => {
  await alice?.context.close();
  await server.stop();
});

test('a list the server could not read says so, and Try again brings it', async () => {
  test.setTimeout(120_000);
  const page = alice.page;
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await expect(page.locator('.chat-row').first()).toBeVisible();
  await page.reload();
  const alert = page.getByRole('alert').filter({ hasText: 'Your chats could not be loaded.' });
  await expect(alert).toBeVisible();
  // Hydrated and alive: the socket connects, nothing panicked.
  await page.locator('body[data-hydrated]').waitFor();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  expect(errors.filter((e) => /hydrat|panicked|unreachable/i.test(e))).toEqual([]);
  await expect(page.getByText('Loading chats…')).toHaveCount(0);

  // A read comes back every 30 s; Try again until it is there.
  await expect(async () => {
    if (await alert.isVisible()) await alert.getByRole('button', { name: 'Try again' }).click();
    await expect(page.locator('.chat-row').first()).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 70_000, intervals: [5_000] });
  await expect(alert).toHaveCount(0);
});
