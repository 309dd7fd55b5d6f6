/**
 * The staleness advisor panel and the key box in a real browser (Debian's Chromium, headless,
 * driven by playwright-core), on `ringkv up`'s own wiring: the panel fills in from /advisor with
 * the configuration in use marked, and the key box explains a key. A screenshot goes to
 * artifacts/dashboard-advisor.png. Chromium missing is a failure, as in dashboard.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';
import { type Chromium, launchChromium } from './chromium.js';

const ARTIFACTS = new URL('../../../artifacts/', import.meta.url);
const SCREENSHOT = new URL('dashboard-advisor.png', ARTIFACTS);
/** The panel polls every 5 s; the first answer comes at load. */
const UI_WAIT_MS = 15_000;

describe('advisor panel and key box in Chromium', () => {
  let running: RunningUp | null = null;
  let browser: Chromium | null = null;
  let context: BrowserContext | null = null;

  beforeAll(async () => {
    running = await startUp(
      { config: { nodes: 4, n: 3, r: 2, w: 2, dataDir: null }, host: '127.0.0.1', port: 0 },
      { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} },
    );
    browser = await launchChromium({ width: 1280, height: 1000 });
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await running?.shutdown();
  });

  it('shows the advice with R=2 W=2 marked, and explains a key', async () => {
    const url = running!.url;
    for (let i = 0; i < 40; i++) {
      const signal = AbortSignal.timeout(5_000);
      expect(
        (await fetch(`${url}/kv/k${i}?w=3`, { method: 'PUT', body: `v${i}`, signal })).status,
      ).toBe(200);
      expect((await fetch(`${url}/kv/k${i}?r=3`, { signal })).status).toBe(200);
    }
    const page = context!.pages()[0] ?? (await context!.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(UI_WAIT_MS);
    await page.goto(`${url}/`, { timeout: UI_WAIT_MS });

    const rows = page.locator('#advisor-rows tr[data-rw]');
    await expect.poll(() => rows.count(), { timeout: UI_WAIT_MS, interval: 200 }).toBe(9);
    const inUse = page.locator('#advisor-rows tr.in-use');
    expect(await inUse.count()).toBe(1);
    expect(await inUse.getAttribute('data-rw')).toBe('2/2');
    expect(await inUse.locator('td').nth(2).textContent()).toBe('100 %');
    expect(await page.locator('#advisor-status').textContent()).toMatch(/in use R=2 W=2/);

    await page.locator('#explain-key').fill('k7');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect
      .poll(() => page.locator('#explain-out ul.verdict').textContent(), {
        timeout: UI_WAIT_MS,
        interval: 100,
      })
      .toBe('3 replicas agree.');
    expect(await page.locator('#explain-out tr[data-node]').count()).toBe(4);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.locator('#advisor-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    // The two panels fit 1 280 px: neither is wider than the page.
    for (const panel of ['#advisor-panel', '#explain-panel']) {
      const box = await page.locator(panel).boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(1280);
    }
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
