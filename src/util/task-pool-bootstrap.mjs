// A task-pool worker started from TypeScript sources (tests, `npm run sim`): Node 20 cannot load
// a .ts module in a worker by itself, so register tsx's ESM loader in this thread first, then
// hand the pool the task module's default export. Built output (dist/) loads the task module's
// .js directly and never loads this file (see task-pool.ts).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const task = await import(workerData.taskModule);

export default task.default;
