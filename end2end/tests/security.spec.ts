// The browser side of docs/reliability.md's "Holes closed": the app runs
// under its Content-Security-Policy (the nonce'd hydration loader, the
// WASM, socket.io-client over polling and WebSocket, server functions)
// without a single violation, and "log out everywhere" sends an open page
// elsewhere to sign in.
import { test, expect, BrowserContext } from '@playwright/test';
import { Server } from '../support/server';
import { signIn } from '../support/actors';

const server = new Server(Number(process.env.E2E_PORT ?? 3100) + 7, 'security');
test.beforeAll(async () => server.start());
test.afterAll(async () => server.stop());

/** Records every CSP violation the context's pages report, both as the
 * DOM event and as Chromium's console message. */
async function watchCsp(context: BrowserContext, into: string[]): Promise<void> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  context.on('console', (m) => {
    const text = m.text();
    if (text.includes('CSP violation') || text.includes('Content Security Policy')) into.push(text);
  });
}

test('the chat page hydrates and chats under its CSP with no violation', async ({ browser }) => {
  const violations: string[] = [];
  // Signing in goes through the login page's hydration and a server function.
  const alice = await signIn(browser, server, 'alice@demo.test', { prepare: (c) => watchCsp(c, violations) });
  const page = alice.page;

  // The dashboard, rendered by the server with its resources, under a policy
  // with this response's nonce and no 'unsafe-inline'.
  const res = await page.goto('/');
  const csp = res?.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
  expect(csp).not.toContain('unsafe-inline');
  expect(res?.headers()['x-frame-options']).toBe('DENY');
  await page.locator('body[data-hydrated]').waitFor();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');

  // Open the demo chat and talk: socket events, acks, history.
  await page.locator('.chat-row', { hasText: 'Fix the kitchen sink' }).click();
  const popup = page.locator('.popup', { hasText: 'Fix the kitchen sink' });
  await expect(popup).toBeVisible();
  const text = `CSP check ${Date.now() % 100000}`;
  const box = popup.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(popup.locator('.msg', { hasText: text })).toBeVisible();
  await expect(popup.locator('.msg', { hasText: text })).not.toContainText('Sending');
  // The socket made it to WebSocket (connect-src), not just polling.
  await expect(page.locator('.connection')).toHaveAttribute('data-transport', 'websocket', { timeout: 15_000 });

  expect(violations).toEqual([]);
  await alice.context.close();
});

test('logging out everywhere sends an open page elsewhere to sign in', async ({ browser }) => {
  const laptop = await signIn(browser, server, 'carol@demo.test');
  const phone = await signIn(browser, server, 'carol@demo.test');
  const res = await phone.context.request.post('/api/auth/logout-all');
  expect(res.status()).toBe(204);
  // The laptop's socket is closed by the server; its reconnect is refused,
  // and the page asks to sign in again.
  await expect(laptop.page).toHaveURL(/\/login\?expired=1$/, { timeout: 15_000 });
  await expect(laptop.page.getByText('Your session ended. Please sign in again.')).toBeVisible();
  await laptop.context.close();
  await phone.context.close();
});
