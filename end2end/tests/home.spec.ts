import { test, expect } from '@playwright/test';

test('home page hydrates and connects over Socket.IO', async ({ page, context }) => {
  // Sign in through the API: it sets the HttpOnly session cookie that the
  // Socket.IO handshake carries.
  const res = await context.request.post('/api/auth/login', {
    data: { email: 'alice@demo.test', password: 'demo-password' },
  });
  expect(res.status()).toBe(200);

  await page.goto('/');
  const status = page.locator('.connection [role=status]');
  await expect(status).toHaveText('Connected');
  await expect(page.locator('.connection')).toHaveAttribute('data-status', 'connected');
});

test('without a session the app asks to sign in', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.locator('.connection')).toHaveCount(0);
});
