/**
 * The dashboard people keep open, in a real browser at 1 280 px: `ringkv up`'s wiring (startUp,
 * port 0, in memory, 5 nodes, N=3) and Debian's Chromium driven headless by playwright-core.
 *
 * - History: a page opened after traffic draws the server's samples at once (six uPlot charts).
 * - Layout: nothing overflows 1 280 px, before and after a kill, a partition and an add-node;
 *   a screenshot of each state goes to artifacts/dashboard/ (01-before … 04-after-add-node).
 * - Ring: a kill marks under-replicated partitions on the rim; the legend's colours are the
 *   colours the partitions are drawn in.
 * - Activity: a kill clicked in one page, a partition made with the CLI and an add-node confirmed
 *   in a dialog all show up, with their origin, in another page.
 * - Membership: the add-node button (after its confirm dialog) adds n6, which gets a row.
 * - Traffic tiles: after an idle gap with no page open, a new page never shows an average over
 *   the gap as "the last 2 s".
 * Chromium missing is a failure, not a skip: CI installs it.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import { type RunningUp, startUp } from '../../../src/cli/up.js';
import {
  type Chromium,
  launchChromium,
  waitForState as waitForNodeState,
  writeKeys,
} from './chromium.js';

const SHOTS = new URL('../../../artifacts/dashboard/', import.meta.url);
const WIDTH = 1280;
/** Deadline for each wait on the page (the dashboard updates every ~500 ms). */
const UI_WAIT_MS = 10_000;
/** An add-node moves ~1/6 of the keys: seconds on a busy machine. */
const ADD_NODE_WAIT_MS = 60_000;

function waitForState(page: Page, node: string, state: string, timeout = UI_WAIT_MS) {
  return waitForNodeState(page, node, state, timeout);
}

/**
 * Everything wider than its box or than the window. Runs in the page; written as source text
 * because this project's TypeScript has no DOM types.
 */
const OVERFLOWING = `(width) => {
  const found = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > width) found.push('document ' + doc.scrollWidth + 'px');
  for (const element of document.querySelectorAll('.panel, .tile, .table-wrap, .chart, .log li, header')) {
    const box = element.getBoundingClientRect();
    const name = ((element.className || element.tagName) + ' ' + element.id).trim();
    if (box.right > width + 0.5) found.push(name + ' ends at ' + box.right + 'px');
    if (element.scrollWidth > element.clientWidth + 1) {
      found.push(name + ' scrolls ' + element.scrollWidth + ' > ' + element.clientWidth);
    }
  }
  return found;
}`;

function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(`(${OVERFLOWING})(${WIDTH})`);
}

async function shoot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  const path = new URL(`${name}.png`, SHOTS).pathname;
  await page.screenshot({ path, fullPage: true });
  expect(existsSync(path)).toBe(true);
}

async function activity(page: Page): Promise<string[]> {
  return page.locator('#log li').allTextContents();
}

/** The fill of every node's partitions and the legend swatch of that node (runs in the page). */
const RING_COLOURS = `(() => {
  const colours = {};
  for (const item of document.querySelectorAll('[data-legend-node]')) {
    const id = item.dataset.legendNode;
    const swatch = item.querySelector('.swatch');
    const fills = [...document.querySelectorAll('[data-replica-node="' + id + '"]')].map(
      (path) => path.getAttribute('fill') ?? '',
    );
    colours[id] = { fills, legend: getComputedStyle(swatch).backgroundColor };
  }
  return colours;
})()`;

function ringColours(page: Page): Promise<Record<string, { fills: string[]; legend: string }>> {
  return page.evaluate(RING_COLOURS);
}

/** '#4e79a7' → 'rgb(78, 121, 167)', as getComputedStyle writes colours. */
function rgb(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

describe('dashboard at 1280 px in Chromium', () => {
  let running: RunningUp | null = null;
  let browser: Chromium | null = null;
  let context: BrowserContext | null = null;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    running = await startUp(
      { config: { nodes: 5, n: 3, r: 2, w: 2, dataDir: null }, host: '127.0.0.1', port: 0 },
      { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} },
    );
    browser = await launchChromium({ width: WIDTH, height: 900 });
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await running?.shutdown();
  });

  async function open(): Promise<Page> {
    const page = await context!.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.setDefaultTimeout(UI_WAIT_MS);
    await page.goto(`${running!.url}/`, { timeout: UI_WAIT_MS });
    return page;
  }

  it('traffic tiles never state an average over an idle gap as the last 2 s', async () => {
    const url = running!.url;
    const first = await open();
    await waitForState(first, 'n1', 'up');
    await writeKeys(url, 'burst-', 300);
    await expect
      .poll(async () => first.locator('#ops-all').textContent(), { timeout: UI_WAIT_MS })
      .not.toBe('–');
    await first.close();
    // Nobody watches: the event stream stops ticking. Then a new page opens.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const second = await open();
    const shown: { text: string; windowMs: number; note: string }[] = [];
    for (let i = 0; i < 12; i++) {
      shown.push({
        text: (await second.locator('#ops-all').textContent()) ?? '',
        windowMs: Number(await second.locator('#ops-all').getAttribute('data-window-ms')),
        note: (await second.locator('#traffic-window').textContent()) ?? '',
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    // No traffic for 3.5 s: any figure shown covers at most 2 s, so it is 0 (or no figure yet).
    for (const { text, windowMs, note } of shown) {
      if (Number.isNaN(windowMs)) continue; // before the first event
      expect(windowMs).toBeLessThanOrEqual(2_000);
      expect(['–', '0.0']).toContain(text);
      if (windowMs > 0) expect(note).toMatch(/^over the last [0-2]\.\d s, via this server$/);
    }
    expect(shown.some(({ text }) => text === '0.0')).toBe(true);
    await second.close();
  });

  it('shows history at once, fits 1280 px, and follows a kill, a partition and an add-node', async () => {
    const url = running!.url;
    await writeKeys(url, 'before-', 200);
    const history = (await (await fetch(`${url}/history`)).json()) as { samples: unknown[] };
    expect(history.samples.length).toBeGreaterThanOrEqual(2);

    const page = await open();
    const other = await open(); // another browser tab watching the same cluster
    for (const node of ['n1', 'n2', 'n3', 'n4', 'n5']) await waitForState(page, node, 'up');
    // The server's samples are drawn at once: six charts, as many samples as /history had.
    await expect.poll(() => page.locator('.chart canvas').count()).toBe(6);
    expect(
      Number(await page.locator('#charts').getAttribute('data-samples')),
    ).toBeGreaterThanOrEqual(history.samples.length);
    await expect.poll(() => page.locator('#ring-under').getAttribute('data-count')).toBe('0');
    expect(await overflowing(page)).toEqual([]);
    await shoot(page, '01-before');

    // Kill n2 from this page: under-replicated partitions appear on the rim.
    await page.getByRole('button', { name: 'kill n2' }).click();
    await waitForState(page, 'n2', 'down');
    await expect
      .poll(async () => Number(await page.locator('#ring-under').getAttribute('data-count')))
      .toBeGreaterThan(0);
    // The replica-set list flags the sets that hold n2, and only those.
    const under = await page.locator('#replica-sets li.under').allTextContents();
    expect(under.length).toBeGreaterThan(0);
    for (const text of under) expect(text).toMatch(/\bn2\b/);
    // Pointing at the ring names a partition and its replicas.
    const ring = await page.locator('#ring').boundingBox();
    await page.mouse.move(ring!.x + ring!.width / 2 + 1, ring!.y + ring!.height * 0.08);
    await expect
      .poll(() => page.locator('#ring-pointer').textContent())
      .toMatch(/^partition \d+: n\d → n\d → n\d/);
    const colours = await ringColours(page);
    for (const [id, { fills, legend }] of Object.entries(colours)) {
      expect(fills.length, id).toBeGreaterThan(0);
      for (const fill of fills)
        expect(rgb(fill), `${id}'s partitions match its legend`).toBe(legend);
    }
    expect(new Set(Object.values(colours).map(({ legend }) => legend)).size).toBe(5);
    await writeKeys(url, 'during-', 100); // hints for n2
    expect(await overflowing(page)).toEqual([]);
    await shoot(page, '02-after-kill');
    // The other tab saw the kill, with its origin.
    await expect
      .poll(async () => (await activity(other)).join('\n'))
      .toMatch(/kill n2\s*ok\s*dashboard@127\.0\.0\.1/);

    // Partition with the CLI: every page shows it in the activity log.
    const program = buildProgram({
      io: { out: () => {}, err: () => {}, isTty: false },
      output: { writeOut: () => {}, writeErr: () => {} },
    });
    await program.parseAsync(['partition', 'n1,n3', 'n4,n5', '--url', url], { from: 'user' });
    await waitForState(page, 'n1', 'partitioned');
    await expect
      .poll(async () => (await activity(page)).join('\n'))
      .toMatch(/partition\s*ok\s*cli@127\.0\.0\.1\s*groups n1,n3 \| n4,n5/);
    expect(await overflowing(page)).toEqual([]);
    await shoot(page, '03-after-partition');

    // Heal, restart n2, then add a node from the page, through its confirm dialog.
    await page.getByRole('button', { name: 'heal' }).click();
    await waitForState(page, 'n1', 'up');
    await page.getByRole('button', { name: 'restart n2' }).click();
    await waitForState(page, 'n2', 'up');
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    // Node-to-node delay makes the join last seconds rather than a fraction of an event tick,
    // so the pages get to show it running however fast the machine is.
    await running!.cluster.setNetwork({ delayMs: 100 });
    await page.locator('#add-node-id').fill('n6');
    await page.getByRole('button', { name: 'add node' }).click();
    // While the join runs, the other tab shows n6 joining and the add-node as running.
    const seen = new Set<string>();
    const deadline = Date.now() + ADD_NODE_WAIT_MS;
    while (Date.now() < deadline) {
      const log = (await activity(other)).join('\n');
      if (/add-node\s*running/.test(log)) seen.add('running');
      const state = await other
        .locator('[data-node="n6"]')
        .getAttribute('data-state', { timeout: 50 })
        .catch(() => null);
      if (state !== null) seen.add(state);
      if (/add-node\s*ok/.test(log)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await running!.cluster.setNetwork({ delayMs: 0 });
    expect([...seen]).toContain('joining');
    expect([...seen]).toContain('running');
    await expect
      .poll(async () => (await activity(other)).join('\n'), { timeout: UI_WAIT_MS })
      .toMatch(/add-node\s*ok\s*dashboard@127\.0\.0\.1\s*join n6/);
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toContain('Add node n6 to the cluster?');
    await waitForState(page, 'n6', 'up');
    await expect.poll(() => page.locator('[data-legend-node="n6"]').count()).toBe(1);
    await expect.poll(() => page.locator('#ring-under').getAttribute('data-count')).toBe('0');
    expect(await page.locator('#replica-sets li.under').count()).toBe(0);
    expect(await page.locator('[data-transfer="n6"]').textContent()).toMatch(
      /^0 \/ [1-9][\d,]* \/ \d+$/,
    );
    expect(await overflowing(page)).toEqual([]);
    await shoot(page, '04-after-add-node');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('a dismissed dialog sends nothing; an accepted remove-node takes the node out', async () => {
    const page = await open();
    await waitForState(page, 'n1', 'up');
    let answer = false;
    page.on('dialog', (dialog) => void (answer ? dialog.accept() : dialog.dismiss()));
    const before = (await (await fetch(`${running!.url}/activity`)).json()) as {
      entries: unknown[];
    };
    await page.getByRole('button', { name: 'remove n3' }).click();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = (await (await fetch(`${running!.url}/activity`)).json()) as {
      entries: unknown[];
    };
    expect(after.entries).toHaveLength(before.entries.length);
    // Removing the node just added (5 stay, n=3): accepted, it leaves and its row goes.
    answer = true;
    await page.getByRole('button', { name: 'remove n6' }).click();
    await expect
      .poll(async () => (await activity(page)).join('\n'), { timeout: ADD_NODE_WAIT_MS })
      .toMatch(/remove-node n6\s*ok\s*dashboard@127\.0\.0\.1\s*leave n6/);
    await expect.poll(() => page.locator('[data-row="n6"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
