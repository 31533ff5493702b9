// Where chat windows sit. On a phone (375 × 667) one window at a time fills
// the screen, composer included, with a way back to the list. The LSM sees
// the chat and the resolution box side by side at 1280 px, and switches
// between them at 375 px.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';
import { violations } from '../support/axe';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 10, 'layout');
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

const PHONE = { width: 375, height: 667 };
const DEMO = 'Fix the kitchen sink';
const JOB = 'Paint the fence';
const LONG = 'Replace the skirting boards in the upstairs hallway and on the landing';

let customer: Actor, lsm: Actor;

const signIn = (browser: Browser, email: string, viewport?: { width: number; height: number }) =>
  signInAs(browser, server, email, { viewport });
const popup = (page: Page, title: string) => page.locator('.popup', { hasText: title });
const row = (page: Page, title: string) => page.locator('.chat-row', { hasText: title });

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/** Whether the element lies wholly inside the viewport. */
async function fullyInView(page: Page, el: Locator): Promise<boolean> {
  const box = await el.boundingBox();
  const vp = page.viewportSize()!;
  return !!box && box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width + 0.5 && box.y + box.height <= vp.height + 0.5;
}

function overlap(a: { x: number; y: number; width: number; height: number }, b: typeof a): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  // Two more chats, one with a dispute for the LSM.
  const page = customer.page;
  for (const title of [LONG, JOB]) {
    await page.getByRole('radio', { name: 'Bob Plumber' }).check();
    await page.getByLabel('What do you need done?').fill(title);
    await page.getByRole('button', { name: 'Book and open chat' }).click();
    await expect(popup(page, title).locator('.msg.system')).toContainText(`Job booked: ${title}`);
  }
  await popup(page, JOB).getByRole('button', { name: 'Add LSM' }).click();
  await popup(page, JOB).getByLabel('What is the disagreement about?').fill('The colour is not the one we agreed.');
  await popup(page, JOB).getByRole('button', { name: 'Add LSM to this chat' }).click();
  await expect(popup(page, JOB).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();
});

test.afterAll(async () => {
  for (const a of [customer, lsm]) await a?.context.close();
  await server.stop();
});

test('a window\'s title cut short has all of it as a tooltip', async () => {
  const long = popup(customer.page, LONG).locator('.popup-job');
  await long.hover();
  expect(await long.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
  await expect(long).toHaveAttribute('title', LONG);
  // One that fits needs none.
  const short = popup(customer.page, JOB).locator('.popup-job');
  await short.hover();
  expect(await short.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(false);
  await expect(short).not.toHaveAttribute('title', /./);
});

test('on a phone one chat at a time fills the screen, with a way back to the list', async ({ browser }) => {
  const phone = await signIn(browser, 'alice@demo.test', PHONE);
  const page = phone.page;
  // Two chats opened one after the other (the first minimised in between:
  // the way to the list past an open window that works before and after).
  await row(page, DEMO).click();
  await expect(popup(page, DEMO)).toBeVisible();
  await popup(page, DEMO).getByRole('button', { name: 'Minimise chat' }).click();
  await row(page, JOB).click();

  const shown = page.locator('.popup:visible');
  await expect(shown).toHaveCount(1);
  await expect(shown).toContainText(JOB);
  const composer = popup(page, JOB).getByLabel('Message');
  await expect(composer).toBeVisible();
  expect(await fullyInView(page, popup(page, JOB))).toBe(true);
  expect(await fullyInView(page, composer)).toBe(true);
  expect(await fullyInView(page, popup(page, JOB).getByRole('button', { name: 'Send' }))).toBe(true);
  await shot(page, 'layout-01-phone-chat');

  // Back: the list, and no window over it.
  await popup(page, JOB).getByRole('button', { name: 'Back to chats' }).click();
  await expect(page.locator('.popup:visible')).toHaveCount(0);
  await expect(row(page, JOB)).toBeInViewport();
  await expect(row(page, JOB)).toBeFocused();
  await shot(page, 'layout-02-phone-list');
  await phone.context.close();
});

test('at 1280 px the LSM reads the chat and writes the resolution side by side', async ({ browser }) => {
  lsm = await signIn(browser, 'lena@demo.test');
  const page = lsm.page;
  await row(page, JOB).click();
  const chat = popup(page, JOB);
  await expect(chat.locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();
  // The chat's "Write resolution" opens the home page's settlement form.
  await chat.getByRole('button', { name: 'Write resolution' }).click();
  const box = page.locator('.resolve', { hasText: JOB });
  const form = box.locator('form.settle-form');
  await expect(form.getByLabel('No refund')).toBeFocused();
  // Its button gives way to the form; Cancel would bring it back.
  await expect(box.getByRole('button', { name: 'Resolve', exact: true })).toHaveCount(0);
  const field = form.getByLabel('Note for both parties');
  await expect(field).toBeVisible();
  await expect(chat.getByLabel('Message')).toBeVisible();
  const [a, b] = [await chat.boundingBox(), await box.boundingBox()];
  expect(overlap(a!, b!)).toBe(false);
  expect(await fullyInView(page, form)).toBe(true);
  expect(await fullyInView(page, chat)).toBe(true);
  // Typing the settlement with the chat in view.
  await form.getByLabel('Other').check();
  await field.fill('Bob repaints');
  await expect(chat.locator('.msg', { hasText: 'opened a dispute' })).toBeInViewport();
  expect(await violations(page)).toEqual([]);
  await shot(page, 'layout-03-lsm-wide');
});

test('at 375 px the LSM switches between the chat and the resolution', async () => {
  const page = lsm.page;
  await page.setViewportSize(PHONE);
  const chat = popup(page, JOB);
  await expect(chat).toBeVisible();
  expect(await fullyInView(page, chat.getByLabel('Message'))).toBe(true);
  // From the chat to the resolution form, still as it was left…
  await chat.getByRole('button', { name: 'Write resolution' }).click();
  const form = page.locator('.resolve', { hasText: JOB }).locator('form.settle-form');
  await expect(page.locator('.popup:visible')).toHaveCount(0);
  await expect(form.getByLabel('Other')).toBeFocused();
  await expect(form.getByLabel('Other')).toBeInViewport();
  await expect(form.getByLabel('Note for both parties')).toHaveValue('Bob repaints');
  await shot(page, 'layout-04-lsm-phone-resolution');
  // …and back to the chat.
  await page.locator('.resolve', { hasText: JOB }).getByRole('button', { name: 'Open chat' }).click();
  await expect(chat).toBeVisible();
  expect(await fullyInView(page, chat.getByLabel('Message'))).toBe(true);
  await shot(page, 'layout-05-lsm-phone-chat');
});
