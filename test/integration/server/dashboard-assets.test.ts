import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../../src/server/http.js';
import { FakeCluster, listen, stop } from './monitor-fakes.js';

const DASHBOARD_DIR = new URL('../../../src/server/dashboard/', import.meta.url);

describe('dashboard assets', () => {
  const server = createHttpServer(new FakeCluster(), {
    bodySizeMaxBytes: 1024,
    requestTimeoutMs: 2_000,
    log: () => {},
  });
  let base = '';

  beforeAll(async () => {
    base = await listen(server);
  });
  afterAll(() => stop(server));

  it.each([
    ['/', 'text/html; charset=utf-8', '<script type="module" src="/dashboard.js"></script>'],
    ['/index.html', 'text/html; charset=utf-8', '<link rel="stylesheet" href="/dashboard.css" />'],
    ['/dashboard.js', 'text/javascript; charset=utf-8', "new EventSource('/events')"],
    ['/dashboard.css', 'text/css; charset=utf-8', '.state[data-state="down"]'],
    // uPlot, served from the installed uplot package (no CDN).
    ['/vendor/uPlot.min.js', 'text/javascript; charset=utf-8', 'var uPlot='],
    ['/vendor/uPlot.min.css', 'text/css; charset=utf-8', '.uplot'],
  ])('GET %s is %s', async (path, type, excerpt) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toContain(excerpt);
  });

  it('the page has the anti-entropy tile and the partition input', async () => {
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain('id="ae-keys"');
    expect(page).toContain('placeholder="n1,n2 n3,n4,n5"');
  });

  it('answers 405 to a POST on an asset', async () => {
    const res = await fetch(`${base}/dashboard.js`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('nothing in the dashboard loads from another origin (no CDN)', async () => {
    for (const name of await readdir(DASHBOARD_DIR)) {
      const text = await readFile(new URL(name, DASHBOARD_DIR), 'utf8');
      const urls = text.match(/https?:\/\/[^\s'"`)]+/g) ?? [];
      expect(
        urls.filter((url) => url !== 'http://www.w3.org/2000/svg'),
        name,
      ).toEqual([]);
      expect(text, name).not.toMatch(/@import|src="\/\/|href="\/\//);
    }
  });
});
