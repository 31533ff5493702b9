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
