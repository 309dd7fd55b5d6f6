/**
 * The dashboard in a real browser: `ringkv up`'s own wiring (startUp, port 0, in memory) and
 * Debian's Chromium driven headless by playwright-core. Load the page, kill n2 with its button,
 * watch its state turn to down, save a screenshot to artifacts/dashboard.png, restart it with its
 * button and watch it come back up. Chromium missing is a failure, not a skip: CI installs it.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';
import {
  type Chromium,
  launchChromium,
  waitForState as waitForNodeState,
  writeKeys,
} from './chromium.js';

const ARTIFACTS = new URL('../../../artifacts/', import.meta.url);
const SCREENSHOT = new URL('dashboard.png', ARTIFACTS);
/** Deadline for each wait on the page (the dashboard updates every ~500 ms). */
const UI_WAIT_MS = 8_000;

/** Waits until the state element of `node` shows `state`, polling the DOM up to UI_WAIT_MS. */
function waitForState(page: Page, node: string, state: string): Promise<void> {
  return waitForNodeState(page, node, state, UI_WAIT_MS);
}

describe('dashboard in Chromium', () => {
  let running: RunningUp | null = null;
  let browser: Chromium | null = null;
  let context: BrowserContext | null = null;
  const printed: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    running = await startUp(
      { config: { nodes: 5, n: 3, r: 2, w: 2, dataDir: null }, host: '127.0.0.1', port: 0 },
      { out: (line) => printed.push(line), err: () => {}, exit: () => {}, onSignal: () => {} },
    );
    browser = await launchChromium({ width: 1440, height: 1000 });
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await running?.shutdown();
  });

  it('ringkv up prints the dashboard and metrics URLs', () => {
    const url = running!.url;
    expect(printed.join('\n')).toContain(`dashboard   ${url}/`);
    expect(printed.join('\n')).toContain(`metrics     ${url}/metrics`);
  });

  it('kills n2 from its button, shows it down, restarts it and shows it up', async () => {
    const url = running!.url;
    const page = context!.pages()[0] ?? (await context!.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(UI_WAIT_MS);
    await writeKeys(url, 'before-', 200);

    await page.goto(`${url}/`, { timeout: UI_WAIT_MS });
    await page.locator('[data-node="n5"]').waitFor({ timeout: UI_WAIT_MS });
    for (const node of ['n1', 'n2', 'n3', 'n4', 'n5']) await waitForState(page, node, 'up');
    await expect(page.locator('#anti-entropy').textContent()).resolves.toMatch(/^exchanges \d/);

    await page.getByRole('button', { name: 'kill n2' }).click();
    await waitForState(page, 'n2', 'down');
    expect(await page.locator('[data-node="n2"]').textContent()).toBe('down');
    await writeKeys(url, 'during-', 100); // sloppy writes and hints for n2
    const hints = page.locator('#hints-total');
    await expect
      .poll(async () => Number((await hints.textContent())?.replace(/,/g, '')), {
        timeout: UI_WAIT_MS,
        interval: 100,
        message: 'hints pending should show the hints held for n2',
      })
      .toBeGreaterThan(0);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    await page.getByRole('button', { name: 'restart n2' }).click();
    await waitForState(page, 'n2', 'up');
    expect(pageErrors).toEqual([]);
  });
});
