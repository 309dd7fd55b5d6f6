/**
 * What the dashboard's browser tests share: Debian's Chromium launched headless by
 * playwright-core in a throwaway profile, a wait for a node's state on the page, and a burst of
 * writes so the dashboard has figures. Chromium missing is a failure, not a skip: CI installs it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

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

export interface Chromium {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile and the given window size. */
export async function launchChromium(viewport: {
  width: number;
  height: number;
}): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the dashboard tests need Debian's chromium (apt-get install chromium; .ci/run installs it)`,
    );
  }
  const profileDir = await mkdtemp(join(tmpdir(), 'ringkv-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: 15_000,
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => {});
        await rm(profileDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(profileDir, { recursive: true, force: true });
    throw error;
  }
}

/** Waits until the state element of `node` shows `state`, polling the DOM up to `timeoutMs`. */
export async function waitForState(
  page: Page,
  node: string,
  state: string,
  timeoutMs: number,
): Promise<void> {
  await expect
    .poll(
      () =>
        page.locator(`[data-node="${node}"]`).getAttribute('data-state', { timeout: timeoutMs }),
      { timeout: timeoutMs, interval: 100, message: `${node} should show ${state}` },
    )
    .toBe(state);
}

/** Writes `count` keys through the HTTP API, a few at a time, so the dashboard has figures. */
export async function writeKeys(url: string, prefix: string, count: number): Promise<void> {
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
