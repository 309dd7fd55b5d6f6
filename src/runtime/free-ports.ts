/**
 * Ports for node processes that a supervisor (`ringkv up --processes`) assigns before starting
 * them: every node's peer address must be known up front (`--initial-cluster`), so the ports are
 * picked, checked free, and only bound later by the child.
 *
 * Picked at random below the kernel's ephemeral range (Linux 32768..60999, macOS 49152..65535):
 * a port taken from the kernel with port 0 and released is in that range, and an outgoing
 * connection of any process could take it before the child binds it (the child then exits with
 * EADDRINUSE). Below the range only a listener can take it, which the check rules out.
 */
import { createServer } from 'node:net';
import { FREE_PORT_RANGE, FREE_PORT_TRIES_MAX } from '../config.js';

/** Whether nothing listens on `port` at `host` right now (listened on, then released). */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` distinct ports free at `host`, in `range` (low inclusive, high exclusive; by default
 * FREE_PORT_RANGE, below the ephemeral range); bounded by FREE_PORT_TRIES_MAX.
 */
export async function freePorts(
  count: number,
  host: string,
  range: readonly [number, number] = FREE_PORT_RANGE,
): Promise<number[]> {
  const [low, high] = range;
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries >= FREE_PORT_TRIES_MAX) {
      throw new Error(`no ${count} free ports found in ${low}..${high} at ${host}`);
    }
    const port = low + Math.floor(Math.random() * (high - low));
    if (!ports.has(port) && (await bindable(port, host))) ports.add(port);
  }
  return [...ports];
}
