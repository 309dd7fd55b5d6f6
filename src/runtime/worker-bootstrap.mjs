// Starts a node's worker from TypeScript sources (tests, `npm start` in a source checkout):
// Node 20 cannot load a .ts worker file by itself, so register tsx's ESM loader in this thread
// first. Built output (dist/) starts worker-main.js directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
