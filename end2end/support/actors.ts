// One signed-in person in their own browser context, as every spec needs.
import { Browser, BrowserContext, Page, expect } from '@playwright/test';
import { Server } from './server';

/** One Socket.IO frame over the page's WebSocket, in the order the page saw it. */
export type Frame = { dir: 'in' | 'out'; payload: string };

export type Actor = { context: BrowserContext; page: Page; dialogs: string[]; frames: Frame[] };

export type SignInOptions = {
  viewport?: { width: number; height: number };
  timezoneId?: string;
  /** Pins the page's clock (ms since the epoch). */
  fixedTime?: number;
  /** Runs on the context before the first page opens (routes, gates). */
  prepare?: (context: BrowserContext) => Promise<void>;
  /** The browser's User-Agent, to tell this actor's requests apart in a
   * proxy's access log (Playwright's own when unset). */
  userAgent?: string;
};

export const DESKTOP = { width: 1280, height: 800 };

/** Signs in through the login form, as a person would, and waits until the
 * app is hydrated and connected. Any dialog (an injected alert) is recorded
 * and dismissed, so XSS checks can assert there was none. */
export async function signIn(browser: Browser, server: Server, email: string, opts: SignInOptions = {}): Promise<Actor> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? DESKTOP,
    timezoneId: opts.timezoneId,
    baseURL: server.baseURL,
    userAgent: opts.userAgent,
  });
  if (opts.fixedTime !== undefined) await context.clock.setFixedTime(opts.fixedTime);
  await opts.prepare?.(context);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const frames: Frame[] = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => frames.push({ dir: 'in', payload: String(f.payload) }));
    ws.on('framesent', (f) => frames.push({ dir: 'out', payload: String(f.payload) }));
  });
  page.on('console', (m) => {
    if (m.text().startsWith('jobchat') || m.type() === 'error') console.log(`[${email}] ${m.text().slice(0, 300)}`);
  });
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto('/login');
  await page.locator('body[data-hydrated]').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('demo-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(server.baseURL + '/');
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  return { context, page, dialogs, frames };
}

/** Frames after `from` (an index into `actor.frames`). */
export function framesSince(actor: Actor, from: number): Frame[] {
  return actor.frames.slice(from);
}

/**
 * Proves that nothing more is on its way to this page: brings the window to
 * the front (the app then marks its open chats read, a request with an ack)
 * and waits for an ack ("43…") that left the server after this call. One
 * socket's frames arrive in the order the server queued them, so an event
 * for this page that was queued before the ack has arrived by now; an
 * absence checked after this is an absence, not a slow delivery.
 */
export async function drained(actor: Actor): Promise<void> {
  await expect(actor.page.locator('.connection')).toHaveAttribute('data-transport', 'websocket');
  const from = actor.frames.length;
  await actor.page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect
    .poll(() => framesSince(actor, from).some((f) => f.dir === 'in' && f.payload.startsWith('43')), {
      message: 'an ack over the WebSocket after the focus',
    })
    .toBe(true);
}
