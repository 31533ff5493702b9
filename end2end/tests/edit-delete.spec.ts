// Editing and deleting one's own messages, side by side: the customer
// edits and deletes, the provider sees "edited" and "This message was
// deleted" live and after a reload, and has no Edit or Delete on the
// customer's messages; the LSM of a dispute opens "Versions" and reads
// every version, the deleted text included. The server runs with a short
// edit window (30 s), so Edit is seen to follow the server's setting, not
// a number in the browser.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { violations } from '../support/axe';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

const EDIT_WINDOW_SECS = 30;
const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 13, 'edit-delete', {
  JOBCHAT_EDIT_WINDOW_SECS: String(EDIT_WINDOW_SECS),
});
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

// The demo data's chat between Alice (customer) and Bob (provider).
const JOB = 'Fix the kitchen sink';
const FIRST = 'The leak is under the sink, on the left';
const EDITED = 'The leak is under the sink, on the right';
const DELETED = 'My door code is 1234';
const KEPT = 'See you on Thursday';

let customer: Actor, provider: Actor, lsm: Actor;

const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);
const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });
const button = (scope: Locator, name: string) => scope.getByRole('button', { name, exact: true });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/** Sends `text` and waits until it is stored; the bubble, by its stored id
 * (its text changes, its id does not). */
async function send(page: Page, text: string): Promise<Locator> {
  const box = popup(page).getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  const sent = popup(page).locator('.msg.mine', { hasText: text });
  await expect(sent).toHaveAttribute('data-state', /sent|read/);
  return bubble(page, (await sent.getAttribute('data-id')) ?? '');
}

const bubble = (page: Page, id: string) => popup(page).locator(`.msg[data-id="${id}"]`);

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
  for (const a of [customer, provider]) {
    await row(a.page).click();
    await expect(popup(a.page).locator('.msg').first()).toBeVisible();
  }
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm]) await a?.context.close();
  await server.stop();
});

let editedId = '';
let deletedId = '';

test('the customer edits a message: the provider sees the new text and "edited" live', async () => {
  const mine = await send(customer.page, FIRST);
  editedId = (await mine.getAttribute('data-id')) ?? '';
  const theirs = bubble(provider.page, editedId);
  await expect(theirs).toContainText(FIRST);
  // Not the provider's to change (only to report, issue #23).
  await expect(theirs.getByRole('button')).toHaveText(['Report']);

  // Escape leaves the text as it was, the window open, the focus on it.
  await button(mine, 'Edit').click();
  const box = mine.getByRole('textbox', { name: 'Edit text' });
  await expect(box).toBeFocused();
  await expect(box).toHaveValue(FIRST);
  await box.fill('never mind');
  await box.press('Escape');
  await expect(box).toHaveCount(0);
  await expect(mine).toBeFocused();
  await expect(mine).toContainText(FIRST);
  await expect(popup(customer.page)).toBeVisible();

  await button(mine, 'Edit').click();
  await box.fill(EDITED);
  expect(await violations(customer.page)).toEqual([]);
  await box.press('Enter');
  await expect(box).toHaveCount(0);
  await expect(mine).toBeFocused();
  await expect(mine.locator('.msg-text')).toHaveText(EDITED);
  await expect(mine.locator('.msg-edited')).toHaveText('edited');

  await expect(theirs.locator('.msg-text')).toHaveText(EDITED);
  await expect(theirs.locator('.msg-edited')).toHaveText('edited');
  await expect(popup(provider.page).getByText(FIRST)).toHaveCount(0);
});

test('the customer deletes a message: the provider sees "This message was deleted" live', async () => {
  const mine = await send(customer.page, DELETED);
  deletedId = (await mine.getAttribute('data-id')) ?? '';
  const theirs = bubble(provider.page, deletedId);
  await expect(theirs).toContainText(DELETED);

  // Asked first; Cancel keeps it.
  await button(mine, 'Delete').click();
  await expect(mine).toContainText('Delete this message?');
  await expect(button(mine, 'Cancel')).toBeFocused();
  await button(mine, 'Cancel').click();
  await expect(mine.getByText('Delete this message?')).toHaveCount(0);
  await expect(mine).toContainText(DELETED);

  await button(mine, 'Delete').click();
  expect(await violations(customer.page)).toEqual([]);
  await shot(customer.page, '18-delete-confirm');
  await button(mine, 'Delete').click();
  await expect(mine.locator('.msg-text')).toHaveText('This message was deleted');
  await expect(mine).toBeFocused();
  await expect(mine.getByRole('button')).toHaveCount(0);

  await expect(theirs.locator('.msg-text')).toHaveText('This message was deleted');
  await expect(theirs.locator('time')).toBeVisible();
  await expect(popup(provider.page).getByText(DELETED)).toHaveCount(0);
  // It was the chat's newest message: the list's preview follows.
  await expect(row(provider.page).locator('.chat-preview')).toHaveText('This message was deleted');

  // A message after it, and the edit form open on it, for the pictures.
  const kept = await send(customer.page, KEPT);
  await expect(row(provider.page).locator('.chat-preview')).toHaveText(`Alice Customer: ${KEPT}`);
  await button(kept, 'Edit').click();
  await expect(kept.getByRole('textbox', { name: 'Edit text' })).toBeFocused();
  await shot(customer.page, '15-edit-delete');
  // On a phone the window fills the screen and the form fits it.
  await customer.page.setViewportSize({ width: 375, height: 667 });
  await expect(kept.getByRole('textbox', { name: 'Edit text' })).toBeVisible();
  expect(await customer.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await shot(customer.page, '17-edit-delete-phone');
  await customer.page.setViewportSize({ width: 1280, height: 800 });
  await button(kept, 'Cancel').click();
});

test('after a reload both see the edit and the deletion, and none of the old words', async () => {
  for (const a of [customer, provider]) {
    await a.page.reload();
    await expect(a.page.locator('.connection')).toHaveAttribute('data-status', 'connected');
    await expect(bubble(a.page, editedId).locator('.msg-text')).toHaveText(EDITED);
    await expect(bubble(a.page, editedId).locator('.msg-edited')).toBeVisible();
    await expect(bubble(a.page, deletedId).locator('.msg-text')).toHaveText('This message was deleted');
    await expect(popup(a.page).getByText(FIRST)).toHaveCount(0);
    await expect(popup(a.page).getByText(DELETED)).toHaveCount(0);
    // Nobody but the LSM has versions to read.
    await expect(button(popup(a.page), 'Versions')).toHaveCount(0);
  }
  await expect(popup(provider.page).locator('.msg.theirs').getByRole('button', { name: /^(Edit|Delete)$/ })).toHaveCount(0);
});

test('the LSM of a dispute opens "Versions" and reads every version', async ({ browser }) => {
  const page = provider.page;
  await button(popup(page), 'Add LSM').click();
  await popup(page).getByLabel('What is the disagreement about?').fill('Alice changed what she wrote.');
  await button(popup(page), 'Add LSM to this chat').click();
  await expect(popup(page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();

  lsm = await signIn(browser, 'lena@demo.test');
  await row(lsm.page).click();
  const edited = bubble(lsm.page, editedId);
  const deleted = bubble(lsm.page, deletedId);
  await expect(edited.locator('.msg-text')).toHaveText(EDITED);
  await expect(deleted.locator('.msg-text')).toHaveText('This message was deleted');
  // Only through "Versions": the deleted words are nowhere else.
  await expect(popup(lsm.page).getByText(DELETED)).toHaveCount(0);
  await expect(popup(lsm.page).getByRole('button', { name: /^(Edit|Delete)$/ })).toHaveCount(0);
  // Versions only where there is more than one.
  await expect(button(popup(lsm.page).locator('.msg', { hasText: KEPT }), 'Versions')).toHaveCount(0);

  const toggle = button(edited, 'Versions');
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await expect(edited.locator('.version')).toHaveCount(2);
  await expect(edited.locator('.version .version-kind')).toHaveText(['Sent', 'Edited']);
  await expect(edited.locator('.version .version-text')).toHaveText([FIRST, EDITED]);

  await button(deleted, 'Versions').click();
  await expect(deleted.locator('.version .version-kind')).toHaveText(['Sent', 'Deleted']);
  await expect(deleted.locator('.version').first().locator('.version-text')).toHaveText(DELETED);
  await expect(deleted.locator('.version').nth(1).locator('.version-text')).toHaveCount(0);
  await expect(deleted.locator('.version').nth(1).locator('time')).toBeVisible();
  await deleted.scrollIntoViewIfNeeded();
  expect(await violations(lsm.page)).toEqual([]);
  await shot(lsm.page, '16-versions-lsm');

  // Closed again, the list goes.
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(edited.locator('.version')).toHaveCount(0);
});

test("past the server's edit window Edit goes by itself, and a late save is refused in the message", async () => {
  const late = await send(customer.page, 'Parking is on the street');
  const later = await send(customer.page, 'Bring a 15 mm spanner');
  await button(late, 'Edit').click();
  const box = late.getByRole('textbox', { name: 'Edit text' });
  await box.fill('Parking is in the yard');
  // The later message's window closes after the earlier one's: once its
  // Edit goes, the server refuses the open form's save. Delete stays.
  await expect(button(later, 'Edit')).toBeVisible();
  await expect(button(later, 'Edit')).toHaveCount(0, { timeout: (EDIT_WINDOW_SECS + 15) * 1000 });
  await expect(button(later, 'Delete')).toBeVisible();
  await box.press('Enter');
  await expect(late.getByRole('alert')).toHaveText(`A message can be edited for ${EDIT_WINDOW_SECS} s after it is sent`);
  await expect(box).toHaveValue('Parking is in the yard');
  await box.press('Escape');
  await expect(late.locator('.msg-text')).toHaveText('Parking is on the street');
  await expect(late.getByRole('alert')).toHaveCount(0);
  await expect(button(late, 'Edit')).toHaveCount(0);
});
