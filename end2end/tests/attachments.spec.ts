// Photos and files, side by side: the customer attaches with the button, a
// drop and a paste; the provider sees thumbnails and file cards live and
// opens the lightbox with the keyboard. A file the server refuses (its
// bytes, not its name, decide) shows the server's reason on its chip and
// nothing is sent until it is removed. Offline, a message with a file waits
// in the outbox, its bytes in IndexedDB, and after a reload it still goes.
import { test, expect, Browser, Locator, Page } from '@playwright/test';
import { violations } from '../support/axe';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Server } from '../support/server';
import { Actor, signIn as signInAs } from '../support/actors';

// Small limits, so the browser's own checks (from the server's settings,
// carried in the page) are seen to follow them.
const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 14, 'attachments', {
  JOBCHAT_FILE_MAX_BYTES: String(1024 * 1024),
  JOBCHAT_FILES_PER_MESSAGE: '3',
});
const shots = path.resolve(__dirname, '..', 'artifacts');
mkdirSync(shots, { recursive: true });

test.describe.configure({ mode: 'serial' });

// The demo data's chat between Alice (customer) and Bob (provider).
const JOB = 'Fix the kitchen sink';

let customer: Actor, provider: Actor;

const signIn = (browser: Browser, email: string) => signInAs(browser, server, email);
const popup = (page: Page) => page.locator('.popup', { hasText: JOB });
const row = (page: Page) => page.locator('.chat-row', { hasText: JOB });
const box = (page: Page) => popup(page).getByLabel('Message', { exact: true });
const picker = (page: Page) => popup(page).getByLabel('Attach files');

async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/** A real picture, drawn by the browser (a gradient and a shape, so the
 * server has something to decode and thumbnail). */
async function picture(page: Page, type: 'image/png' | 'image/jpeg', width: number, height: number): Promise<Buffer> {
  const url = await page.evaluate(
    ({ type, width, height }) => {
      const c = document.createElement('canvas');
      c.width = width;
      c.height = height;
      const g = c.getContext('2d')!;
      const grad = g.createLinearGradient(0, 0, width, height);
      grad.addColorStop(0, '#2456d6');
      grad.addColorStop(1, '#5ee38f');
      g.fillStyle = grad;
      g.fillRect(0, 0, width, height);
      g.fillStyle = '#fff';
      g.beginPath();
      g.arc(width / 2, height / 2, Math.min(width, height) / 4, 0, Math.PI * 2);
      g.fill();
      return c.toDataURL(type, 0.9);
    },
    { type, width, height },
  );
  return Buffer.from(url.split(',')[1], 'base64');
}

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** Hands `files` to the page as a drop on `target` or a paste into it,
 * through a DataTransfer, as the browser does for real ones. */
async function transfer(
  target: Locator,
  kind: 'dragover' | 'drop' | 'paste',
  files: { name: string; type: string; bytes: Buffer }[],
) {
  await target.evaluate(
    (el, { kind, files }) => {
      const dt = new DataTransfer();
      for (const f of files) {
        const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
        dt.items.add(new File([bytes], f.name, { type: f.type }));
      }
      if (kind === 'dragover' || kind === 'drop') {
        el.dispatchEvent(new DragEvent(kind, { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    },
    { kind, files: files.map((f) => ({ name: f.name, type: f.type, b64: f.bytes.toString('base64') })) },
  );
}

/** The image has loaded (the server served it, the browser decoded it). */
async function loaded(img: Locator): Promise<number> {
  await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  return img.evaluate((i: HTMLImageElement) => i.naturalWidth);
}

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
  for (const a of [customer, provider]) await a?.context.close();
  await server.stop();
});

const CAPTION = 'Photos of the leak, and the quote';

test('two files with the button and a caption: the provider sees the thumbnail and the card live', async () => {
  const page = customer.page;
  const png = await picture(page, 'image/png', 640, 480);
  await picker(page).setInputFiles([
    { name: 'sink.png', mimeType: 'image/png', buffer: png },
    { name: 'quote.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  const chips = popup(page).locator('.chips .chip');
  await expect(chips).toHaveCount(2);
  await expect(chips.nth(0)).toContainText('sink.png');
  await expect(chips.nth(1)).toContainText('quote.pdf');
  await expect(popup(page).getByRole('button', { name: 'Remove quote.pdf' })).toBeVisible();
  await box(page).fill(CAPTION);
  expect(await violations(page)).toEqual([]);
  await shot(page, '19-attachments');

  await box(page).press('Enter');
  await expect(chips).toHaveCount(0);
  const mine = popup(page).locator('.msg.mine', { hasText: CAPTION });
  await expect(mine).toHaveAttribute('data-state', /sent|read/, { timeout: 20_000 });
  await expect(mine.getByRole('img', { name: 'sink.png' })).toBeVisible();
  await expect(mine.locator('.file-card')).toContainText('quote.pdf');

  const theirs = popup(provider.page).locator('.msg.theirs', { hasText: CAPTION });
  const thumb = theirs.getByRole('img', { name: 'sink.png' });
  await expect(thumb).toBeVisible();
  expect(await loaded(thumb)).toBe(320);
  const card = theirs.locator('.file-card');
  await expect(card).toContainText('quote.pdf');
  await expect(card).toContainText('PDF');
  const link = card.getByRole('link', { name: 'Download quote.pdf' });
  await expect(link).toHaveAttribute('href', /^\/api\/attachments\/\d+$/);
  await expect(link).toHaveAttribute('download', 'quote.pdf');
});

test('the provider opens the lightbox with the keyboard; Escape closes it and the focus is back', async () => {
  const page = provider.page;
  const theirs = popup(page).locator('.msg.theirs', { hasText: CAPTION });
  const thumb = theirs.getByRole('button', { name: 'sink.png' });
  await thumb.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'sink.png' });
  await expect(dialog).toBeVisible();
  expect(await loaded(dialog.getByRole('img', { name: 'sink.png' }))).toBe(640);
  expect(await violations(page)).toEqual([]);
  await shot(page, '20-lightbox');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(thumb).toBeFocused();
  // Escape closed the picture, not the chat window.
  await expect(popup(page)).toBeVisible();
});

test('a drop and a paste each attach a file; files alone preview as 📎', async () => {
  const page = customer.page;
  const jpeg = await picture(page, 'image/jpeg', 300, 200);
  const dropped = [{ name: 'dropped.jpg', type: 'image/jpeg', bytes: jpeg }];
  // Files dragged over the window show where they go.
  await transfer(popup(page), 'dragover', dropped);
  await expect(popup(page).locator('.drop-zone')).toBeVisible();
  await transfer(popup(page), 'drop', dropped);
  await expect(popup(page).locator('.drop-zone')).toHaveCount(0);
  const chips = popup(page).locator('.chips .chip');
  await expect(chips).toHaveCount(1);
  await expect(chips.nth(0)).toContainText('dropped.jpg');
  await transfer(box(page), 'paste', [{ name: 'image.png', type: 'image/png', bytes: await picture(page, 'image/png', 120, 90) }]);
  await expect(chips).toHaveCount(2);
  await expect(chips.nth(1)).toContainText(/pasted-.*\.png/);

  await box(page).press('Enter');
  await expect(chips).toHaveCount(0);
  const mine = popup(page).locator('.msg.mine').last();
  await expect(mine.getByRole('img', { name: 'dropped.jpg' })).toBeVisible({ timeout: 20_000 });
  await expect(mine).toHaveAttribute('data-state', /sent|read/);
  await expect(mine.locator('.thumbs img')).toHaveCount(2);
  const theirs = popup(provider.page).locator('.msg.theirs').last();
  await expect(theirs.locator('.thumbs img')).toHaveCount(2);
  // Left and Right go between the message's pictures in the lightbox.
  await theirs.getByRole('button', { name: 'dropped.jpg' }).click();
  const first = provider.page.getByRole('dialog', { name: 'dropped.jpg' });
  await expect(first).toBeVisible();
  await expect(first).toContainText('1 of 2');
  await provider.page.keyboard.press('ArrowRight');
  await expect(provider.page.getByRole('dialog', { name: /pasted-.*\.png/ })).toContainText('2 of 2');
  await provider.page.keyboard.press('ArrowLeft');
  await expect(first).toBeVisible();
  await provider.page.keyboard.press('Escape');
  await expect(first).toBeHidden();
  await expect(theirs.getByRole('button', { name: 'dropped.jpg' })).toBeFocused();
  // Never an empty preview.
  await popup(provider.page).getByRole('button', { name: /close/i }).first().click();
  await expect(row(provider.page).locator('.chat-preview')).toHaveText('Alice Customer: 📎 2 files');
  await row(provider.page).click();
  await expect(popup(provider.page)).toBeVisible();
});

test("a file the server refuses shows its reason on its chip and nothing is sent until it is removed", async () => {
  const page = customer.page;
  // An executable's bytes under a picture's name: the bytes decide.
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(512, 1)]);
  await picker(page).setInputFiles([{ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: elf }]);
  await box(page).fill('Wrong file');
  await box(page).press('Enter');
  const mine = popup(page).locator('.msg.mine', { hasText: 'Wrong file' });
  const refusal = mine.locator('.chip[data-file="photo.jpg"]').getByRole('alert');
  await expect(refusal).toContainText('files of this type cannot be shared here');
  await expect(mine).toHaveAttribute('data-state', 'failed');
  await expect(popup(provider.page).getByText('Wrong file')).toHaveCount(0);

  // Removed, the rest (here the caption alone) goes.
  await mine.getByRole('button', { name: 'Remove photo.jpg' }).click();
  await expect(mine).toHaveAttribute('data-state', /sent|read/);
  await expect(popup(provider.page).locator('.msg.theirs', { hasText: 'Wrong file' })).toBeVisible();
});

test('offline, a message with a file waits, survives a reload, and goes once it can', async () => {
  const page = customer.page;
  await customer.context.setOffline(true);
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'offline');
  const png = await picture(page, 'image/png', 200, 150);
  await picker(page).setInputFiles([{ name: 'offline.png', mimeType: 'image/png', buffer: png }]);
  await box(page).fill('Sent while offline');
  await box(page).press('Enter');
  const mine = () => popup(page).locator('.msg.mine', { hasText: 'Sent while offline' });
  await expect(mine()).toHaveAttribute('data-state', 'sending');
  await expect(mine().locator('.chip[data-file="offline.png"]')).toBeVisible();
  await expect(mine().getByRole('progressbar', { name: 'Uploading offline.png' })).toBeVisible();
  await shot(page, '22-attachments-offline');

  // Back online but uploads still failing: the reload must find the bytes
  // in IndexedDB (the page's memory is gone).
  let blocked = true;
  await customer.context.route('**/api/chats/*/attachments**', (r) => (blocked ? r.abort() : r.continue()));
  await customer.context.setOffline(false);
  await page.reload();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });
  await expect(mine()).toHaveAttribute('data-state', 'sending');
  await expect(mine().locator('.chip[data-file="offline.png"]')).toBeVisible();
  blocked = false;
  await expect(mine()).toHaveAttribute('data-state', /sent|read/, { timeout: 40_000 });
  await expect(mine().getByRole('img', { name: 'offline.png' })).toBeVisible();
  await expect(popup(provider.page).locator('.msg.theirs', { hasText: 'Sent while offline' }).getByRole('img', { name: 'offline.png' })).toBeVisible();
  await customer.context.unroute('**/api/chats/*/attachments**');
});

test("the browser checks the server's size and count limits before any upload", async () => {
  const page = customer.page;
  const uploads: string[] = [];
  const count = (r: { url(): string }) => {
    if (r.url().includes('/attachments?')) uploads.push(r.url());
  };
  page.on('request', count);
  const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(1536 * 1024, 0x20)]);
  await picker(page).setInputFiles([{ name: 'big.pdf', mimeType: 'application/pdf', buffer: big }]);
  const chip = popup(page).locator('.chips .chip[data-file="big.pdf"]');
  await expect(chip.getByRole('alert')).toHaveText('Too large: files may be up to 1 MB');
  await expect(popup(page).locator('.chips-hint')).toHaveText('Up to 3 files, 1 MB each');
  await box(page).fill('Too big');
  await box(page).press('Enter');
  await expect(popup(page).locator('.composer + .error, .error[role=alert]').last()).toHaveText('Remove the files that cannot be sent');
  await expect(popup(page).locator('.msg', { hasText: 'Too big' })).toHaveCount(0);
  await popup(page).getByRole('button', { name: 'Remove big.pdf' }).click();

  const four = ['1', '2', '3', '4'].map((n) => ({ name: `note-${n}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`note ${n}`) }));
  await picker(page).setInputFiles(four);
  await expect(popup(page).locator('.chips .chip')).toHaveCount(3);
  await expect(popup(page).getByRole('alert').filter({ hasText: 'A message carries up to 3 files' })).toBeVisible();
  for (const n of ['1', '2', '3']) await popup(page).getByRole('button', { name: `Remove note-${n}.txt` }).click();
  await expect(popup(page).locator('.chips .chip')).toHaveCount(0);
  await box(page).fill('');
  page.off('request', count);
  expect(uploads).toEqual([]);
});

test('on a phone the chips fit the screen', async () => {
  const page = customer.page;
  await page.setViewportSize({ width: 375, height: 667 });
  await picker(page).setInputFiles([
    { name: 'a-rather-long-name-for-a-photo-of-the-sink.png', mimeType: 'image/png', buffer: await picture(page, 'image/png', 64, 64) },
    { name: 'quote.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  await expect(popup(page).locator('.chips .chip')).toHaveCount(2);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await shot(page, '21-attachments-phone');
  for (const name of ['quote.pdf', 'a-rather-long-name-for-a-photo-of-the-sink.png']) {
    await popup(page).getByRole('button', { name: `Remove ${name}` }).click();
  }
  await expect(popup(page).locator('.chips .chip')).toHaveCount(0);
  await page.setViewportSize({ width: 1280, height: 800 });
});
