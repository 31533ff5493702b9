// What the product shows must be true: the bell, the chat badges and the
// tab title agree after every step (two tabs of one user, and the other
// side of the chat), and a system line sets apart what people typed.
import { test, expect, Page } from '@playwright/test';
import { Server } from '../support/server';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Actor, drained, signIn } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 20, 'truth');

test.describe.configure({ mode: 'serial' });

const JOB = 'Fix the kitchen sink';
let alice: Actor, bob: Actor, aliceElsewhere: Actor, lena: Actor | undefined;
let aliceTab2: Page;

test.beforeAll(async ({ browser }) => {
  await server.start();
  alice = await signIn(browser, server, 'alice@demo.test');
  bob = await signIn(browser, server, 'bob@demo.test');
  // A second window of Alice's, signed in on its own (as on another
  // device): what one window reads, the other must drop too.
  aliceElsewhere = await signIn(browser, server, 'alice@demo.test');
  aliceTab2 = aliceElsewhere.page;
});

test.afterAll(async () => {
  for (const a of [alice, bob, aliceElsewhere, lena]) await a?.context.close();
  await server.stop();
});

/** What one tab shows: the bell's number, the chat badges' sum, the tab
 * title's count (0 where none is shown). */
async function counts(page: Page): Promise<{ bell: number; badges: number; title: number }> {
  return page.evaluate(() => {
    const bellEl = document.querySelector('[data-testid="bell-count"]');
    const bell = bellEl ? Number(bellEl.textContent) : 0;
    let badges = 0;
    document.querySelectorAll('.chat-row .badge [aria-hidden="true"]').forEach((b) => {
      badges += Number(b.textContent);
    });
    const m = /^\((\d+)\)/.exec(document.title);
    return { bell, badges, title: m ? Number(m[1]) : 0 };
  });
}

/** Waits until the tab shows `n` on the bell, the badges and the title alike. */
async function showsUnread(page: Page, n: number) {
  await expect.poll(() => counts(page)).toEqual({ bell: n, badges: n, title: n });
}

const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });

async function send(page: Page, text: string) {
  const box = popup(page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
}

test('bell, badges and title agree on every tab after each step', async () => {
  // The demo conversation ends with Alice's own message: nothing unread.
  for (const tab of [alice.page, aliceTab2]) await showsUnread(tab, 0);

  await row(bob.page).click();
  await send(bob.page, 'Running ten minutes late.');
  await send(bob.page, 'Parking now.');
  for (const tab of [alice.page, aliceTab2]) await showsUnread(tab, 2);

  // Reading the chat in one tab clears the bell and badge in both.
  await row(alice.page).click();
  await expect(popup(alice.page).getByText('Parking now.')).toBeVisible();
  for (const tab of [alice.page, aliceTab2]) await showsUnread(tab, 0);
  // Bob sees "Read" under his message: Alice read it.
  await expect(popup(bob.page).locator('.msg.mine', { hasText: 'Parking now.' })).toHaveAttribute('data-state', 'read');

  // While Alice has the chat open and in view, a new message is read at
  // once: no bell, no badge, in either tab.
  await send(bob.page, 'At the door.');
  await expect(popup(alice.page).getByText('At the door.')).toBeVisible();
  await expect(popup(bob.page).locator('.msg.mine', { hasText: 'At the door.' })).toHaveAttribute('data-state', 'read');
  for (const tab of [alice.page, aliceTab2]) await showsUnread(tab, 0);

  // Minimised, the chat is not being read: the next message counts.
  await popup(alice.page).getByRole('button', { name: /Minimi[sz]e/ }).click();
  await send(bob.page, 'Ringing the bell.');
  for (const tab of [alice.page, aliceTab2]) await showsUnread(tab, 1);
});

test('a system line sets apart what people typed', async () => {
  const forged = 'x\n\nLena Manager resolved the dispute: full refund';
  await popup(bob.page).getByRole('button', { name: 'Add LSM' }).click();
  await popup(bob.page).getByLabel('What is the disagreement about?').fill(forged);
  await popup(bob.page).getByRole('button', { name: 'Add LSM to this chat' }).click();
  const line = popup(bob.page).locator('.msg.system', { hasText: 'opened a dispute' });
  await expect(line).toBeVisible();
  // The reason is quoted in an element of its own; the product's words
  // ("resolved the dispute") appear only inside it.
  await expect(line.locator('.sys-typed')).toContainText('resolved the dispute: full refund');
  await expect(line.locator('.sys-who').first()).toHaveText('Bob Plumber');
  await expect(popup(bob.page).locator('.msg.system', { hasText: 'resolved the dispute' })).toHaveCount(1);
  const outside = await line.evaluate((el) => {
    const copy = el.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('.sys-typed').forEach((t) => t.remove());
    return copy.textContent ?? '';
  });
  expect(outside).not.toContain('resolved');
});

test('an LSM taken out of a chat behind the node\'s back sees the window turn into the transcript', async ({ browser }) => {
  // The dispute the test before opened is Lena's.
  lena = await signIn(browser, server, 'lena@demo.test');
  await lena.page.locator('.chat-row', { hasText: JOB }).click();
  await expect(popup(lena.page).getByLabel('Message')).toBeVisible();

  // The database says Lena left (as when a settlement on another node
  // never reached this one through Redis): only this node's membership
  // sweep can find out, and it tells her browser with a `user_left` of her
  // own, which turns the window into the transcript.
  const db = path.join(server.dataDir, 'jobchat.db');
  const sql = `UPDATE chat_participants SET left_seq = (SELECT last_seq FROM chats WHERE id = chat_id)
    WHERE user_id = (SELECT id FROM users WHERE email = 'lena@demo.test') AND left_seq IS NULL`;
  const script = 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=10); c.execute(sys.argv[2]); c.commit(); print(c.total_changes)';
  const run = spawnSync('python3', ['-c', script, db, sql], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  expect(Number(run.stdout.trim())).toBe(1);
  await expect(popup(lena.page).locator('.left-note')).toBeVisible({ timeout: 15_000 });
  await expect(popup(lena.page).getByLabel('Message')).toHaveCount(0);

  // What the two say next does not reach her.
  const text = 'between the two of us now';
  for (const a of [alice, bob]) {
    if ((await popup(a.page).count()) === 0) await a.page.locator('.chat-row', { hasText: JOB }).click();
    // The first test left Alice's window minimized.
    const expand = popup(a.page).getByRole('button', { name: 'Expand chat' });
    if ((await expand.count()) > 0) await expand.click();
  }
  const box = popup(alice.page).getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup(bob.page).locator('.msg', { hasText: text })).toHaveCount(1);
  await drained(lena);
  expect(lena.frames.filter((f) => f.payload.includes(text))).toEqual([]);
  await expect(popup(lena.page).locator('.msg', { hasText: text })).toHaveCount(0);
});
