#!/usr/bin/env node
// The ringkv command. In a source checkout (src/cli/main.ts next to this file) it runs the
// TypeScript through tsx's ESM loader; in an installed package it runs the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
let entry;
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = await import(source.href);
} else {
  entry = await import('../dist/src/cli/main.js');
}
await entry.main(process.argv);
