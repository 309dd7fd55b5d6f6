/**
 * The dashboard's files (dashboard/ next to this module): one HTML page, its script and its
 * stylesheet, served as they are. They are read once and kept; the Content-Security-Policy
 * allows nothing but this server, so the page works offline and can load nothing from elsewhere.
 */
import { readFile } from 'node:fs/promises';
import type { Reply } from './replies.js';

export type AssetName =
  | 'index.html'
  | 'dashboard.js'
  | 'dashboard.css'
  | 'advisor-panel.js'
  | 'explain-box.js';

/** Request paths of the dashboard, and the file each serves. */
export const ASSET_PATHS: Readonly<Record<string, AssetName>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/dashboard.js': 'dashboard.js',
  '/dashboard.css': 'dashboard.css',
  '/advisor-panel.js': 'advisor-panel.js',
  '/explain-box.js': 'explain-box.js',
};

const CONTENT_TYPES: Readonly<Record<AssetName, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'advisor-panel.js': 'text/javascript; charset=utf-8',
  'explain-box.js': 'text/javascript; charset=utf-8',
};

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * The dashboard directory, next to this module: src/server/dashboard/ from sources, and
 * dist/src/server/dashboard/ in the build, where scripts/build.mjs copies the files.
 */
const DASHBOARD_DIR = new URL('./dashboard/', import.meta.url);

const cache = new Map<AssetName, Promise<Buffer>>();

export async function assetReply(name: AssetName): Promise<Reply> {
  const body = await loadAsset(name);
  return {
    status: 200,
    headers: { ...SECURITY_HEADERS, 'content-type': CONTENT_TYPES[name] },
    body,
  };
}

function loadAsset(name: AssetName): Promise<Buffer> {
  let loading = cache.get(name);
  if (loading === undefined) {
    loading = readFile(new URL(name, DASHBOARD_DIR));
    loading.catch(() => cache.delete(name)); // retry on the next request
    cache.set(name, loading);
  }
  return loading;
}
