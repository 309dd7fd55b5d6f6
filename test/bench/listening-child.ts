/**
 * A bench helper server under test (the floors of bench/overload and bench:redis): `node args…`
 * spawned from the checkout, its port read from the "listening on PORT" line it prints. Every
 * child started is killed by `stopListeningChildren` (call it in afterEach).
 */
import { type ChildProcess, spawn } from 'node:child_process';

/** How long a helper may take to print its port before the test gives up on it. */
const LISTENING_TIMEOUT_MS = 20_000;

const children = new Set<ChildProcess>();

/** Spawns `node …args` and resolves with the port it prints; rejects if it exits or is late. */
export function startListening(args: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`no "listening on" within ${LISTENING_TIMEOUT_MS} ms: ${out}`));
    }, LISTENING_TIMEOUT_MS);
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (\d+)/.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}`));
    });
  });
}

/** Kills every child `startListening` started. */
export function stopListeningChildren(): void {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
}
