#!/usr/bin/env node
// The ringkv command. An installed package has no sources: it runs the compiled dist/. In a
// checkout it runs the TypeScript sources through tsx (a devDependency), so `npm start` needs no
// build and never runs a stale one; a checkout installed without devDependencies falls back to
// dist/ once `npm run build` made it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

/** tsx's loader, registered; false when tsx is not installed. */
async function registerTsx() {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    return true;
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return false;
    throw error;
  }
}

let entry;
if (existsSync(fileURLToPath(sources)) && (await registerTsx())) {
  entry = await import(sources.href);
} else if (existsSync(fileURLToPath(compiled))) {
  entry = await import(compiled.href);
} else {
  process.stderr.write(
    'ringkv: neither the sources with tsx nor a build found; in a checkout run `npm install` ' +
      '(or `npm run build`)\n',
  );
  process.exit(1);
}
await entry.main(process.argv);
