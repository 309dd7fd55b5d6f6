/**
 * The dashboard in a real browser: `ringkv up`'s own wiring (startUp, port 0, in memory) and
 * Debian's Chromium driven headless by playwright-core. Load the page, kill n2 with its button,
 * watch its state turn to down, save a screenshot to artifacts/dashboard.png, restart it with its
 * button and watch it come back up. Chromium missing is a failure, not a skip: CI installs it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const ARTIFACTS = new URL('../../../artifacts/', import.meta.url);
const SCREENSHOT = new URL('dashboard.png', ARTIFACTS);
/** Deadline for each wait on the page (the dashboard updates every ~500 ms). */
const UI_WAIT_MS = 8_000;

/** Waits until the state element of `node` shows `state`, polling the DOM up to UI_WAIT_MS. */
async function waitForState(page: Page, node: string, state: string): Promise<void> {
  const element = page.locator(`[data-node="${node}"]`);
  await expect
    .poll(() => element.getAttribute('data-state', { timeout: UI_WAIT_MS }), {
      timeout: UI_WAIT_MS,
      interval: 100,
      message: `${node} should show ${state}`,
    })
    .toBe(state);
}

/** Writes `count` keys through the HTTP API, a few at a time, so the dashboard has figures. */
async function writeKeys(url: string, prefix: string, count: number): Promise<void> {
  const batch = 20;
  for (let start = 0; start < count; start += batch) {
    const puts = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const signal = AbortSignal.timeout(5_000);
      puts.push(fetch(`${url}/kv/${prefix}${i}`, { method: 'PUT', body: `v${i}`, signal }));
    }
    for (const res of await Promise.all(puts)) expect(res.status).toBe(200);
  }
}

describe('dashboard in Chromium', () => {
  let running: RunningUp | null = null;
  let context: BrowserContext | null = null;
  let profileDir = '';
  const printed: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} not found: the dashboard test needs Debian's chromium (apt-get install chromium; .ci/run installs it)`,
      );
    }
    running = await startUp(
      { config: { nodes: 5, n: 3, r: 2, w: 2, dataDir: null }, host: '127.0.0.1', port: 0 },
      { out: (line) => printed.push(line), err: () => {}, exit: () => {}, onSignal: () => {} },
    );
    profileDir = await mkdtemp(join(tmpdir(), 'ringkv-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 1000 },
      timeout: 15_000,
    });
  });

  afterAll(async () => {
    await context?.close().catch(() => {});
    await running?.shutdown();
    if (profileDir !== '') await rm(profileDir, { recursive: true, force: true });
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
