// The README's screenshots, from the demo data: Alice's dashboard, her chat
// with Bob after she brought in Lena over a dispute, Lena's view with the
// chat beside the resolution she is writing, and Lena's moderation queue
// with Alice's report of Bob's offer to be paid outside the platform. Run
// by scripts/screenshots (never part of the test suite).
import { test, expect, Page } from '@playwright/test';
import path from 'node:path';
import { Server } from '../support/server';
import { signIn } from '../support/actors';

const out = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');
// signIn only needs the address of the server scripts/screenshots started.
const server = { baseURL: process.env.SCREENSHOT_URL! } as unknown as Server;
const CHAT = 'Fix the kitchen sink';

const popup = (page: Page) => page.locator('.popup', { hasText: CHAT });
const row = (page: Page) => page.locator('.chat-row', { hasText: CHAT });

async function say(page: Page, text: string) {
  const box = popup(page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
}

test('docs screenshots', async ({ browser }) => {
  test.skip(!process.env.SCREENSHOT_URL, 'run by scripts/screenshots');
  const alice = await signIn(browser, server, 'alice@demo.test');
  const bob = await signIn(browser, server, 'bob@demo.test');

  // The dashboard as the demo data leaves it.
  await expect(row(alice.page).locator('.chat-time')).toBeVisible();
  await alice.page.mouse.move(0, 0);
  await alice.page.screenshot({ path: path.join(out, 'customer-dashboard.png') });

  // Bob reports back, Alice is not happy and brings in an LSM.
  await row(bob.page).click();
  await row(alice.page).click();
  await say(bob.page, 'Done: new washer in the tap, and the drain is clear.');
  await say(alice.page, 'Thanks, but the tap still drips at night.');
  await say(bob.page, 'That is a worn cartridge, which was not part of the quote.');
  await popup(alice.page).getByRole('button', { name: 'Add LSM' }).click();
  await popup(alice.page).getByLabel('What is the disagreement about?').fill('The tap still drips after the repair.');
  await popup(alice.page).getByRole('button', { name: 'Add LSM to this chat' }).click();
  await expect(popup(alice.page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();

  const lena = await signIn(browser, server, 'lena@demo.test');
  await row(lena.page).click();
  await say(lena.page, 'Hello both, I am Lena. Alice, could you send a photo of the drip?');
  await expect(popup(alice.page).locator('.msg.theirs', { hasText: 'I am Lena' })).toBeVisible();
  await say(alice.page, 'Sure, I will send one tonight.');
  await expect(popup(lena.page).locator('.msg.theirs', { hasText: 'send one tonight' })).toBeVisible();
  await expect(popup(alice.page).locator('.seen-by')).toContainText('Lena Manager');
  await alice.page.mouse.move(0, 0);
  await alice.page.screenshot({ path: path.join(out, 'chat-popup.png') });

  // Lena writes the settlement with the chat beside it.
  await lena.page.locator('.resolve').getByRole('button', { name: 'Resolve', exact: true }).click();
  await lena.page.getByLabel('No refund').check();
  await lena.page.getByLabel('Note for both parties').fill('Bob replaces the cartridge on Friday at no extra charge.');
  await lena.page.mouse.move(0, 0);
  await lena.page.screenshot({ path: path.join(out, 'lsm-view.png') });

  // Bob offers a discount for cash; Alice reports it; Lena's queue has it.
  await say(bob.page, 'Pay me in cash next time and I knock 20 off.');
  const offer = popup(alice.page).locator('.msg.theirs', { hasText: 'Pay me in cash' });
  await offer.getByRole('button', { name: 'Report', exact: true }).click();
  await offer.getByLabel('Payment outside the platform').check();
  await offer.getByLabel('Anything to add? (optional)').fill('He asked for cash twice.');
  await offer.getByRole('button', { name: 'Send report', exact: true }).click();
  await expect(offer.locator('.msg-reported')).toBeVisible();
  await lena.page.getByRole('link', { name: 'Moderation' }).click();
  await expect(lena.page.locator('.mod-item', { hasText: 'Pay me in cash' })).toBeVisible();
  await lena.page.mouse.move(0, 0);
  await lena.page.screenshot({ path: path.join(out, 'moderation-queue.png') });

  for (const a of [alice, bob, lena]) await a.context.close();
});
