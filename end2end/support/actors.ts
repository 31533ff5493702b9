// One signed-in person in their own browser context, as every spec needs.
import { Browser, BrowserContext, Page, expect } from '@playwright/test';
import { Server } from './server';

export type Actor = { context: BrowserContext; page: Page; dialogs: string[] };

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
  return { context, page, dialogs };
}
