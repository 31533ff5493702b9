import { test, expect } from '@playwright/test';
import { Server } from '../support/server';

const server = new Server(Number(process.env.E2E_PORT ?? 3100), 'home');
test.beforeAll(async () => server.start());
test.afterAll(async () => server.stop());

test('home page hydrates and connects over Socket.IO', async ({ page, context }) => {
  // Sign in through the API: it sets the HttpOnly session cookie that the
  // Socket.IO handshake carries.
  const res = await context.request.post(`${server.baseURL}/api/auth/login`, {
    data: { email: 'alice@demo.test', password: 'demo-password' },
  });
  expect(res.status()).toBe(200);

  await page.goto(server.baseURL + '/');
  await expect(page.locator('.connection [role=status]')).toHaveText('Connected');
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
});

test('without a session the app asks to sign in', async ({ page }) => {
  await page.goto(server.baseURL + '/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.locator('.connection')).toHaveCount(0);
});

test('a session that ended sends the next server-function call to sign in', async ({ page, context }) => {
  const res = await context.request.post(`${server.baseURL}/sfn/login`, {
    data: { email: 'carol@demo.test', password: 'demo-password' },
  });
  expect(res.status()).toBe(200);
  await page.goto(server.baseURL + '/');
  await page.locator('body[data-hydrated]').waitFor();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');

  // The session goes away underneath the page (expired, or signed out
  // elsewhere); the open socket stays up, so the next one-time call is the
  // first to find out.
  await context.clearCookies();
  await page.locator('label.provider').first().click();
  await page.getByLabel('What do you need done?').fill('Paint the fence');
  await page.getByRole('button', { name: 'Book and open chat' }).click();
  await expect(page).toHaveURL(/\/login\?expired=1$/);
  await expect(page.getByText('Your session ended. Please sign in again.')).toBeVisible();
});

test('the signed-in dashboard is rendered by the server, chat list included', async ({ browser }) => {
  // No JavaScript at all: whatever shows was in the server's HTML.
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL: server.baseURL });
  const res = await context.request.post('/sfn/login', {
    data: { email: 'alice@demo.test', password: 'demo-password' },
  });
  expect(res.status()).toBe(200);
  // The HTML itself carries the list: not a placeholder streamed over later.
  const html = await (await context.request.get('/')).text();
  expect(html).toContain('Fix the kitchen sink');
  expect(html).not.toContain('Loading chats…');
  expect(html).not.toContain('Loading providers…');
  expect(html).not.toContain('<template');
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Hello, Alice' })).toBeVisible();
  await expect(page.locator('.chat-row', { hasText: 'Fix the kitchen sink' })).toBeVisible();
  await expect(page.locator('.chat-row .chat-preview').first()).not.toHaveText('');
  await expect(page.locator('label.provider', { hasText: 'Bob Plumber' })).toBeVisible();
  await expect(page.getByText('Loading chats…')).toHaveCount(0);
  await expect(page.getByText('Loading providers…')).toHaveCount(0);
  await context.close();
});

test('the server-rendered list hydrates without a flash and stays live', async ({ page, context }) => {
  await context.request.post(`${server.baseURL}/sfn/login`, {
    data: { email: 'alice@demo.test', password: 'demo-password' },
  });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.baseURL + '/');
  await page.locator('body[data-hydrated]').waitFor();
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
  await expect(page.locator('.chat-row', { hasText: 'Fix the kitchen sink' })).toBeVisible();
  // Clicking a server-rendered row works after hydration.
  await page.locator('.chat-row', { hasText: 'Fix the kitchen sink' }).click();
  await expect(page.locator('.popup', { hasText: 'Fix the kitchen sink' })).toBeVisible();
  expect(errors.filter((e) => /hydrat|panicked|unreachable/i.test(e))).toEqual([]);
});

test('a /?chat=ID link arrives with that chat window rendered by the server, then works live', async ({ browser }) => {
  const noJs = await browser.newContext({ javaScriptEnabled: false, baseURL: server.baseURL });
  await noJs.request.post('/sfn/login', { data: { email: 'alice@demo.test', password: 'demo-password' } });
  const chats = await (await noJs.request.post('/sfn/chats', { data: {} })).json();
  const sink = chats.find((c: { jobTitle: string }) => c.jobTitle === 'Fix the kitchen sink');
  const html = await (await noJs.request.get(`/?chat=${sink.id}`)).text();
  expect(html).toContain('Thursday at 10:00 works for me.');
  expect(html).not.toContain('<template');
  const page = await noJs.newPage();
  await page.goto(`/?chat=${sink.id}`);
  const popup = page.locator('.popup', { hasText: 'Fix the kitchen sink' });
  await expect(popup).toBeVisible();
  await expect(popup.locator('.msg', { hasText: 'Thursday at 10:00 works for me.' })).toHaveCount(1);
  await noJs.close();

  // With JavaScript the same window hydrates, joins and sends.
  const live = await browser.newContext({ baseURL: server.baseURL });
  await live.request.post('/sfn/login', { data: { email: 'alice@demo.test', password: 'demo-password' } });
  const p = await live.newPage();
  await p.goto(`/?chat=${sink.id}`);
  await p.locator('body[data-hydrated]').waitFor();
  await expect(p.locator('.connection')).toHaveAttribute('data-status', 'connected');
  const win = p.locator('.popup', { hasText: 'Fix the kitchen sink' });
  await expect(win.locator('.msg', { hasText: 'Thursday at 10:00 works for me.' })).toHaveCount(1);
  await win.getByLabel('Message').fill('Sent from a linked window');
  await win.getByLabel('Message').press('Enter');
  await expect(win.locator('.msg.mine', { hasText: 'Sent from a linked window' })).toHaveAttribute('data-state', /sent|read/);
  await live.close();
});
