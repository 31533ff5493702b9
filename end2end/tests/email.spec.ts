// Email when away (issue #24), in the browser: the provider closes his
// tab, the customer writes three messages, and exactly one email reaches
// the provider's mailbox in a real SMTP server (aiosmtpd), with all three
// and a link that opens the chat.
import { test, expect, Browser, Page } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

const root = path.resolve(__dirname, '..', '..');

// scripts/test's SMTP server, or one of our own when this spec runs alone.
let smtpPort = process.env.TEST_SMTP_PORT ?? '';
let mailDir = process.env.TEST_MAIL_DIR ?? '';
const ownPidFile = path.join(root, 'target', 'e2e-smtp.pid');
if (!smtpPort || !mailDir) {
  const started = spawnSync(path.join(root, 'scripts', 'smtp-server'), [ownPidFile], { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`scripts/smtp-server failed: ${started.stderr}`);
  [smtpPort, mailDir] = started.stdout.trim().split(/\s+/);
}

const port = Number(process.env.E2E_PORT ?? 3100) + 23;
const server = new Server(port, 'email', {
  JOBCHAT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  // Away after 1.2 s without a tab (the senders look every 5 s).
  JOBCHAT_EMAIL_AWAY_MINUTES: '0.02',
  JOBCHAT_PUBLIC_URL: `http://127.0.0.1:${port}`,
});

// A job of its own: the demo data's chats have unread messages of their
// own, which email Bob too.
const JOB = 'Unblock the garden drain';
const BOB = 'bob@demo.test';
const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);

/** Bob's emails about the job, in the order they arrived. */
function bobsMail(): string[] {
  if (!existsSync(mailDir)) return [];
  return readdirSync(mailDir)
    .filter((f) => f.endsWith(`-${BOB}.eml`))
    .sort()
    .map((f) => unquote(readFileSync(path.join(mailDir, f), 'utf8')))
    .filter((m) => m.includes(JOB));
}

/** Quoted-printable undone, enough to read what lettre wrote. */
const unquote = (s: string) =>
  s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));

let alice: Actor;

test.beforeAll(async () => {
  // Nothing from another run of this spec (the mailbox may be shared).
  if (existsSync(mailDir)) {
    for (const f of readdirSync(mailDir).filter((f) => f.endsWith(`-${BOB}.eml`))) rmSync(path.join(mailDir, f));
  }
  await server.start();
});

test.afterAll(async () => {
  await alice?.context.close();
  await server.stop();
  if (existsSync(ownPidFile) && !process.env.TEST_SMTP_PORT) {
    try {
      process.kill(Number(readFileSync(ownPidFile, 'utf8')));
    } catch {
      // already gone
    }
  }
});

test("a provider who closed his tab gets one email with the customer's three messages", async ({ browser }) => {
  test.setTimeout(90_000);
  alice = await signIn(browser, 'alice@demo.test');
  const bob = await signIn(browser, BOB);
  const page = alice.page;
  await page.getByLabel('Bob Plumber').check();
  await page.getByLabel('What do you need done?').fill(JOB);
  await page.getByRole('button', { name: 'Book and open chat' }).click();
  await expect(popup(page)).toBeVisible();
  // Bob sees the new chat, then closes his tab.
  await expect(bob.page.locator('.chat-row', { hasText: JOB })).toBeVisible();
  await bob.context.close();

  const box = popup(alice.page).getByLabel('Message', { exact: true });
  const texts = ['Are you still coming today?', 'The water is on the floor now', 'Please call when you are close'];
  for (const text of texts) {
    await box.fill(text);
    await box.press('Enter');
    await expect(popup(alice.page).locator('.msg.mine', { hasText: text })).toHaveAttribute('data-state', /sent|read/);
  }

  await expect.poll(() => bobsMail().length, { timeout: 45_000 }).toBe(1);
  const mail = bobsMail()[0];
  for (const text of texts) expect(mail).toContain(text);
  expect(mail).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  const link = mail.match(/http:\/\/127\.0\.0\.1:\d+\/\?chat=\d+/)?.[0];
  expect(link).toBeTruthy();

  // Still one after two more rounds of the senders (5 s each): the burst
  // was coalesced, not sent per message. An absence cannot be awaited.
  await new Promise((r) => setTimeout(r, 11_000));
  expect(bobsMail()).toHaveLength(1);

  // The link opens the chat, with the three messages read there.
  const back = await signIn(browser, BOB);
  await back.page.goto(link!);
  for (const text of texts) await expect(popup(back.page).getByText(text)).toBeVisible();
  await back.context.close();
});
