import { describe, expect, it } from 'vitest';
import type { LinkReply, NodeLink } from '../../src/client/node-link.js';
import { RequestDriver } from '../../src/client/request-driver.js';
import { toGetResult } from '../../src/client/results.js';
import type { ClientRequest, ClientResult, DataRequest } from '../../src/core/messages.js';
import { Ring } from '../../src/core/ring.js';
import { nodeId } from '../../src/core/types.js';
import { QuorumError, TimeoutError, UnavailableError } from '../../src/errors.js';

const IDS = ['n1', 'n2', 'n3'];
const RING = Ring.create(IDS.map(nodeId), 8);
const QUORUM_FAILED: ClientResult = { ok: false, error: 'quorum', needed: 2, acked: 1 };
const FOUND: ClientResult = {
  ok: true,
  op: 'get',
  record: null,
  replies: 2,
  coordinator: nodeId('n1'),
  sloppy: false,
};

/**
 * A NodeLink that answers at once from a script, recording what it was sent, and a clock the
 * test moves: each send advances it by `costMs`, as if the attempt took that long.
 */
function harness(script: Array<ClientResult | 'down'>, costMs: number, down: string[] = []) {
  let now = 1_000;
  const sent: Array<{ node: string; request: ClientRequest }> = [];
  const link: NodeLink = {
    isUp: (node) => !down.includes(node),
    send: (node, request) => {
      sent.push({ node, request });
      now += costMs;
      const next = script.shift() ?? 'down';
      const reply: LinkReply =
        next === 'down' ? { kind: 'down', reason: 'exited' } : { kind: 'answer', result: next };
      return { reply: Promise.resolve(reply), cancel() {} };
    },
    stats: async () => null,
    inspect: async () => null,
    explain: async () => null,
  };
  const driver = new RequestDriver(link, {
    n: 3,
    slackMs: 100,
    retry: { attemptsMax: 3, delayBaseMs: 0, delayMaxMs: 0 },
    ring: () => RING,
    nodeIds: () => IDS,
    nowMs: () => now,
    random01: () => 0.5,
  });
  return { driver, sent };
}

const GET: DataRequest = { op: 'get', key: 'k', r: 2, timeoutMs: 999, trace: 't' };

function run(driver: RequestDriver, timeoutMs: number) {
  return driver.run({
    request: GET,
    timeoutMs,
    decode: (result) => toGetResult(result, 2, 'get "k"'),
  });
}

describe('RequestDriver', () => {
  it('sends each attempt the time left of one deadline, and retries within it', async () => {
    const { driver, sent } = harness([QUORUM_FAILED, QUORUM_FAILED, FOUND], 150);
    await expect(run(driver, 500)).resolves.toMatchObject({ replies: 2 });
    expect(sent.map((s) => s.request.timeoutMs)).toEqual([500, 350, 200]);
    expect(sent[0]!.node).toBe(RING.preferenceList('k', 3)[0]);
  });

  it('gives up with the last error once the deadline leaves no time for another attempt', async () => {
    const { driver, sent } = harness([QUORUM_FAILED, FOUND], 500);
    await expect(run(driver, 500)).rejects.toBeInstanceOf(QuorumError);
    expect(sent).toHaveLength(1);
  });

  it('turns a coordinator that stops into a TimeoutError (outcome unknown), then retries', async () => {
    const { driver, sent } = harness(['down', FOUND], 10);
    await expect(run(driver, 500)).resolves.toMatchObject({ replies: 2 });
    expect(sent).toHaveLength(2);
    const { driver: once } = harness(['down'], 10);
    await expect(
      once.run({ request: GET, timeoutMs: 500, decode: (r) => r, via: null }),
    ).rejects.toBeInstanceOf(TimeoutError);
  });

  it('routes around nodes that are down and fails fast when none runs', async () => {
    const first = RING.preferenceList('k', 3)[0]!;
    const { driver, sent } = harness([FOUND], 10, [first]);
    await run(driver, 500);
    expect(sent[0]!.node).toBe(RING.preferenceList('k', 3)[1]);
    const { driver: dead } = harness([FOUND], 10, IDS);
    await expect(run(dead, 500)).rejects.toBeInstanceOf(UnavailableError);
  });
});
