/**
 * The dashboard's files (dashboard/ next to this module): one HTML page, its script and its
 * stylesheet, served as they are, plus uPlot's script and stylesheet for the history charts,
 * served from the installed `uplot` package (a dependency, so `npm install ringkv` brings it). They are read once and kept; the Content-Security-Policy
 * allows nothing but this server, so the page works offline and can load nothing from elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Reply } from './replies.js';

export type AssetName =
  | 'index.html'
  | 'dashboard.js'
  | 'dashboard.css'
  | 'advisor-panel.js'
  | 'explain-box.js'
  | 'uPlot.min.js'
  | 'uPlot.min.css';

/** Request paths of the dashboard, and the file each serves. */
export const ASSET_PATHS: Readonly<Record<string, AssetName>> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/dashboard.js': 'dashboard.js',
  '/dashboard.css': 'dashboard.css',
  '/advisor-panel.js': 'advisor-panel.js',
  '/explain-box.js': 'explain-box.js',
  '/vendor/uPlot.min.js': 'uPlot.min.js',
  '/vendor/uPlot.min.css': 'uPlot.min.css',
};

const CONTENT_TYPES: Readonly<Record<AssetName, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'advisor-panel.js': 'text/javascript; charset=utf-8',
  'explain-box.js': 'text/javascript; charset=utf-8',
  'uPlot.min.js': 'text/javascript; charset=utf-8',
  'uPlot.min.css': 'text/css; charset=utf-8',
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

/** Files served from a package rather than from dashboard/ (resolved like an import). */
const PACKAGE_FILES: Readonly<Partial<Record<AssetName, string>>> = {
  'uPlot.min.js': 'uplot/dist/uPlot.iife.min.js',
  'uPlot.min.css': 'uplot/dist/uPlot.min.css',
};

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
    const fromPackage = PACKAGE_FILES[name];
    loading =
      fromPackage === undefined
        ? readFile(new URL(name, DASHBOARD_DIR))
        : readFile(createRequire(import.meta.url).resolve(fromPackage));
    loading.catch(() => cache.delete(name)); // retry on the next request
    cache.set(name, loading);
  }
  return loading;
}
