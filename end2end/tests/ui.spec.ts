// What users of chat kits (Stream, TalkJS, Sendbird) expect from a chat
// window: day separators, "↓ N new" when scrolled up, "Seen by" with names
// in a group chat, and the unread count in the tab's title.
import { test, expect, Browser, Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, SignInOptions, signIn as signInAs } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 3, 'ui');
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

const JOB = `Hang the kitchen shelves ${Date.now() % 100000}`;
const PHONE = { width: 375, height: 740 };

let customer: Actor, provider: Actor, lsm: Actor, phone: Actor;

const signIn = (browser: Browser, email: string, opts: SignInOptions = {}) => signInAs(browser, server, email, opts);

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });
const scroller = (page: Page) => popup(page).locator('.popup-body');

async function send(page: Page, text: string) {
  const box = popup(page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(page).locator('.msg.mine', { hasText: text }).last()).toHaveAttribute('data-state', /sent|read/);
}

/// Pixels between the bottom of the visible part and the end of the history.
async function distanceFromBottom(page: Page): Promise<number> {
  return scroller(page).evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
}

async function scrollUp(page: Page) {
  await scroller(page).hover();
  await page.mouse.wheel(0, -4000);
  await expect.poll(() => distanceFromBottom(page)).toBeGreaterThan(200);
}

test.beforeAll(async ({ browser }) => {
  await server.start();
  customer = await signIn(browser, 'alice@demo.test');
  provider = await signIn(browser, 'bob@demo.test');
  lsm = await signIn(browser, 'lena@demo.test');
});

test.afterAll(async () => {
  for (const a of [customer, provider, lsm, phone]) await a?.context.close();
  await server.stop();
});

test('today\'s messages sit under one "Today" separator', async () => {
  const page = customer.page;
  await page.getByLabel('Bob Plumber').check();
  await page.getByLabel('What do you need done?').fill(JOB);
  await page.getByRole('button', { name: 'Book and open chat' }).click();
  await expect(popup(page).locator('.msg.system')).toContainText(`Job booked: ${JOB}`);
  await row(provider.page).click();
  await expect(popup(provider.page)).toBeVisible();

  await send(page, 'Morning Bob, are the brackets included?');
  await send(provider.page, 'Yes, I bring brackets and plugs.');
  await send(page, 'Great, see you at ten.');

  for (const p of [page, provider.page]) {
    const seps = popup(p).getByRole('separator');
    await expect(seps).toHaveCount(1);
    await expect(seps).toHaveAccessibleName('Today');
    await expect(seps).toHaveText('Today');
    // Before the first message of the day.
    await expect(popup(p).locator('.messages > li').first()).toHaveClass(/day-sep/);
  }
  // Between two people the plain "Read" stays; no "Seen by" line.
  await expect(popup(page).locator('.msg.mine').last()).toHaveAttribute('data-state', 'read');
  await expect(popup(page).locator('.msg.mine .msg-state').last()).toHaveText('Read');
  await expect(popup(page).locator('.seen-by')).toHaveCount(0);
});

test('scrolled up, new messages show "↓ N new"; clicking it goes to the newest', async ({ browser }) => {
  phone = await signIn(browser, 'alice@demo.test', { viewport: PHONE });
  await row(phone.page).click();
  await expect(popup(phone.page)).toBeVisible();

  for (let i = 1; i <= 18; i++) await send(provider.page, `Shelf note ${i}: measuring wall section ${i} before drilling.`);
  for (const p of [customer.page, phone.page]) {
    await expect(popup(p).locator('.msg', { hasText: 'Shelf note 18:' })).toBeVisible();
    expect(await scroller(p).evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
    await scrollUp(p);
    await expect(popup(p).locator('.jump-new')).toHaveCount(0);
  }

  for (const n of [1, 2, 3]) await send(provider.page, `New photo ${n} of the wall`);
  for (const p of [customer.page, phone.page]) {
    const jump = popup(p).getByRole('button', { name: /Jump to the newest messages/ });
    await expect(jump).toHaveText('↓ 3 new');
    await expect(jump).toHaveAccessibleName('Jump to the newest messages: 3 new');
    // Still where the user left it.
    expect(await distanceFromBottom(p)).toBeGreaterThan(200);
  }
  await shot(customer.page, 'ui-01-jump-to-newest');
  await shot(phone.page, 'ui-02-jump-to-newest-phone');

  // Clicking jumps down and clears the count.
  await popup(customer.page).locator('.jump-new').click();
  await expect(popup(customer.page).locator('.jump-new')).toHaveCount(0);
  await expect.poll(() => distanceFromBottom(customer.page)).toBeLessThan(40);
  await expect(popup(customer.page).locator('.msg', { hasText: 'New photo 3' })).toBeInViewport();

  // Scrolling down by hand clears it too.
  await scroller(phone.page).hover();
  await phone.page.mouse.wheel(0, 8000);
  await expect(popup(phone.page).locator('.jump-new')).toHaveCount(0);
  await expect.poll(() => distanceFromBottom(phone.page)).toBeLessThan(40);

  // At the bottom, new messages just scroll in.
  await send(provider.page, 'All measured.');
  await expect(popup(customer.page).locator('.msg', { hasText: 'All measured.' })).toBeInViewport();
  await expect(popup(customer.page).locator('.jump-new')).toHaveCount(0);

  // Scrolled away again: the count starts from zero.
  await scrollUp(customer.page);
  await send(provider.page, 'One more thing');
  await expect(popup(customer.page).locator('.jump-new')).toHaveText('↓ 1 new');
  await popup(customer.page).locator('.jump-new').click();
  await expect(popup(customer.page).locator('.jump-new')).toHaveCount(0);
});

test('a three-person chat says who has seen my latest message', async () => {
  const page = customer.page;
  await popup(page).getByRole('button', { name: 'Add LSM' }).click();
  await popup(page).getByLabel('What is the disagreement about?').fill('The shelves are not level.');
  await popup(page).getByRole('button', { name: 'Add LSM to this chat' }).click();
  await expect(popup(page).locator('.msg.system', { hasText: 'opened a dispute' })).toBeVisible();
  await expect(row(lsm.page)).toBeVisible();
  await row(lsm.page).click();
  await expect(popup(lsm.page)).toBeVisible();
  await expect(popup(page).locator('.popup-people .person', { hasText: 'Lena Manager' })).toBeVisible();

  await send(page, 'Could you both look at the photos, please?');
  const mine = popup(page).locator('.msg.mine', { hasText: 'look at the photos' });
  const seen = popup(page).locator('.seen-by');
  await expect(seen).toHaveCount(1);
  await expect(seen).toHaveText('Seen by Bob Plumber, Lena Manager');
  // Right under that message.
  await expect(popup(page).locator('.msg.mine', { hasText: 'look at the photos' }).locator('xpath=following-sibling::li[1]')).toHaveClass(/seen-by/);
  await expect(popup(page).getByRole('separator')).toHaveCount(1);
  await shot(page, 'ui-03-seen-by');

  await expect(popup(phone.page).locator('.seen-by')).toHaveText('Seen by Bob Plumber, Lena Manager');
  // It appears after the message did; the window still follows it down.
  await expect(popup(phone.page).locator('.seen-by')).toBeInViewport();
  await expect(seen).toBeInViewport();
  await shot(phone.page, 'ui-04-seen-by-phone');

  // Someone else writes: the line stays under my message, nobody else's.
  await send(lsm.page, 'I have seen them, thanks.');
  await expect(popup(page).locator('.msg.theirs', { hasText: 'I have seen them' })).toBeVisible();
  await expect(seen).toHaveCount(1);
  await expect(seen).toHaveAttribute('data-message-id', (await mine.getAttribute('data-id'))!);
  // The LSM sees the same, with the other two.
  await expect(popup(lsm.page).locator('.seen-by')).toHaveText('Seen by Alice Customer, Bob Plumber');
  // With three, no bare "Read": the line says who.
  await expect(mine).toHaveAttribute('data-state', 'sent');
  await expect(mine.locator('.msg-state')).toHaveText('Sent');
});

test('in a group chat one reader never makes my message "Read"', async () => {
  // Bob closes the chat; only Lena is looking when Alice writes.
  await popup(provider.page).getByRole('button', { name: 'Close chat' }).click();
  await expect(popup(provider.page)).toHaveCount(0);
  const page = customer.page;
  await send(page, 'Lena, the left bracket is the problem.');
  await expect(popup(lsm.page).locator('.msg.theirs', { hasText: 'left bracket' })).toBeVisible();
  const mine = popup(page).locator('.msg.mine', { hasText: 'left bracket' });
  const seen = popup(page).locator('.seen-by');
  await expect(seen).toHaveText('Seen by Lena Manager');
  await expect(seen).toHaveAttribute('data-message-id', (await mine.getAttribute('data-id'))!);
  await expect(mine).toHaveAttribute('data-state', 'sent');
  await expect(popup(page).locator('.msg.mine[data-state="read"]')).toHaveCount(0);
  await expect(popup(page).getByText('Read', { exact: true })).toHaveCount(0);
  await shot(page, 'ui-07-seen-by-lsm-only');
  // Bob reads it: now both are named.
  await row(provider.page).click();
  await expect(popup(provider.page).locator('.msg.theirs', { hasText: 'left bracket' })).toBeVisible();
  await expect(seen).toHaveText('Seen by Bob Plumber, Lena Manager');
  await expect(mine).toHaveAttribute('data-state', 'sent');
});

test('chat rows say "You:" for my own last message, with its time', async () => {
  const mine = row(customer.page);
  await expect(mine.locator('.chat-preview')).toHaveText('You: Lena, the left bracket is the problem.');
  await expect(mine).not.toContainText('Alice Customer:');
  await expect(row(provider.page).locator('.chat-preview')).toHaveText('Alice Customer: Lena, the left bracket is the problem.');
  // Today's: the time, as the message shows it.
  const last = popup(customer.page).locator('.msg.mine', { hasText: 'left bracket' }).locator('time');
  await expect(mine.locator('.chat-time')).toHaveText(/^\d\d:\d\d$/);
  await expect(mine.locator('.chat-time')).toHaveText((await last.textContent())!);
});

test('the tab title counts unread messages and clears when the chat is read', async () => {
  // A second window of the same user would read them first.
  await phone.context.close();
  phone = undefined as unknown as Actor;
  const page = customer.page;
  // The demo conversation ends with Alice's own reply: she has read all
  // of it, so nothing counts.
  await expect(page).toHaveTitle('jobchat');

  // Minimised: still in the chat's room, but not read.
  await popup(page).getByRole('button', { name: 'Minimise chat' }).click();
  await send(provider.page, 'Are you there?');
  await send(provider.page, 'I can come back on Friday.');
  await expect(page).toHaveTitle('(2) jobchat');
  await popup(page).getByRole('button', { name: 'Expand chat' }).click();
  await expect(page).toHaveTitle('jobchat');

  // Closed.
  await popup(page).getByRole('button', { name: 'Close chat' }).click();
  await expect(popup(page)).toHaveCount(0);
  for (const n of [1, 2, 3]) await send(provider.page, `Friday option ${n}`);
  await expect(page).toHaveTitle('(3) jobchat');
  await shot(page, 'ui-05-tab-title');
  await row(page).click();
  await expect(popup(page).locator('.msg', { hasText: 'Friday option 3' })).toBeVisible();
  await expect(page).toHaveTitle('jobchat');
});

/// "Mon 23 Nov 2026" for a UTC instant seen at a fixed UTC offset.
function dayLabel(utcMillis: number, offsetMinutes: number): string {
  const d = new Date(utcMillis + offsetMinutes * 60_000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${days[d.getUTCDay()]} ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

/// "23 Nov" (with the year when not the viewer's current one) at a fixed offset.
function shortDate(utcMillis: number, offsetMinutes: number): string {
  const d = new Date(utcMillis + offsetMinutes * 60_000);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const year = new Date(Date.now() + offsetMinutes * 60_000).getUTCFullYear();
  const y = d.getUTCFullYear() === year ? '' : ` ${d.getUTCFullYear()}`;
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]}${y}`;
}

test('days and times are the viewer\'s: local clock and time zone', async ({ browser }) => {
  // Kathmandu is UTC+05:45 all year: no DST, and a quarter-hour offset.
  const KATHMANDU = 5 * 60 + 45;
  const DAY = 24 * 3600_000;
  const views: Array<[number, (first: number) => string]> = [
    [DAY, () => 'Yesterday'],
    [3 * DAY, (first) => dayLabel(first, KATHMANDU)],
  ];
  for (const [ahead, expected] of views) {
    const viewer = await signIn(browser, 'alice@demo.test', { timezoneId: 'Asia/Kathmandu', fixedTime: Date.now() + ahead });
    await row(viewer.page).click();
    const times = popup(viewer.page).locator('.msg time');
    await expect(popup(viewer.page).locator('.msg', { hasText: 'Friday option 3' })).toBeVisible();
    const first = Date.parse((await times.first().getAttribute('datetime'))!);
    // The chat's row shows the last message's date, not a time.
    const lastAt = Date.parse((await times.last().getAttribute('datetime'))!);
    await expect(row(viewer.page).locator('.chat-time')).toHaveText(shortDate(lastAt, KATHMANDU));
    const sep = popup(viewer.page).getByRole('separator');
    await expect(sep).toHaveCount(1);
    await expect(sep).toHaveText(expected(first));
    // Times in the viewer's zone, not UTC.
    for (const t of (await times.all()).slice(0, 3)) {
      const utc = new Date(Date.parse((await t.getAttribute('datetime'))!) + KATHMANDU * 60_000);
      const hhmm = `${String(utc.getUTCHours()).padStart(2, '0')}:${String(utc.getUTCMinutes()).padStart(2, '0')}`;
      await expect(t).toHaveText(hhmm);
    }
    if (ahead > DAY) {
      await scroller(viewer.page).evaluate((el) => el.scrollTo(0, 0));
      await shot(viewer.page, 'ui-06-day-separator-date');
    }
    await viewer.context.close();
  }
});

test('the chat list shows the newest 200 and pages older ones in, kept across reloads', async ({ browser, request }) => {
  test.setTimeout(120_000);
  const login = async (email: string) => {
    const res = await request.post(`${server.baseURL}/api/auth/login`, { data: { email, password: 'demo-password' } });
    expect(res.status()).toBe(200);
    return (await res.json()) as { token: string; user: { id: number } };
  };
  const carol = await login('carol@demo.test');
  const dave = await login('dave@demo.test');
  // 201 chats: one more than a page. The first is the oldest.
  const book = async (title: string) => {
    const res = await request.post(`${server.baseURL}/api/jobs`, {
      headers: { Authorization: `Bearer ${carol.token}` },
      data: { providerId: dave.user.id, title },
    });
    expect(res.status(), await res.text()).toBe(201);
  };
  const OLDEST = `Oldest job ${Date.now() % 100000}`;
  await book(OLDEST);
  for (let i = 1; i <= 200; i++) await book(`Paged job ${i}`);

  const a = await signIn(browser, 'carol@demo.test');
  const rows = a.page.locator('.chat-row');
  const older = a.page.getByRole('button', { name: 'Show older chats' });
  await expect(rows).toHaveCount(200);
  await expect(a.page.locator('.chat-row', { hasText: OLDEST })).toHaveCount(0);
  await older.scrollIntoViewIfNeeded();
  await shot(a.page, '12-older-chats');
  await older.click();
  await expect(rows).toHaveCount(201);
  await expect(a.page.locator('.chat-row', { hasText: OLDEST })).toHaveCount(1);
  await expect(older).toHaveCount(0);

  // A new chat reloads the list's newest page: the row paged in stays, once.
  await book('One more job');
  await expect(a.page.locator('.chat-row').first()).toContainText('One more job');
  await expect(rows).toHaveCount(202);
  await expect(a.page.locator('.chat-row', { hasText: OLDEST })).toHaveCount(1);
  await expect(older).toHaveCount(0);
  await a.context.close();
});
