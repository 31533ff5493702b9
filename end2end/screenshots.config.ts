import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// The README's screenshots (scripts/screenshots), not a test: kept out of
// the suite's testDir, run against a server the script started with the
// demo data only.
export default defineConfig({
  ...base,
  testDir: './screenshots',
  testMatch: '**/*.shots.ts',
  outputDir: './test-results/screenshots',
  use: { ...base.use, baseURL: process.env.SCREENSHOT_URL },
});
