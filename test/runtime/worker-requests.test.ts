import { describe, expect, it } from 'vitest';
import type { ClientRequest, ClientResult } from '../../src/core/messages.js';
import type { RequestEnvelope } from '../../src/runtime/control.js';
import { processClockMs } from '../../src/runtime/host-clocks.js';
import { WorkerRequests } from '../../src/runtime/worker-requests.js';

const request = { op: 'get', key: 'k', r: 1, timeoutMs: 100 } as ClientRequest;
const answer = { ok: false, error: 'timeout', message: 'late' } as ClientResult;

function target() {
  const sent: RequestEnvelope[] = [];
  return {
    sent,
    isRunning: true,
    request: (reqId: number, request: ClientRequest) => sent.push({ reqId, request }),
  };
}

describe('WorkerRequests', () => {
  it('settles a call with its answer, once, and forgets it', async () => {
    const requests = new WorkerRequests();
    const node = target();
    const call = requests.send('n1', node, request);
    expect(requests.size).toBe(1);
    requests.reply(node.sent[0]!.reqId, answer);
    await expect(call.reply).resolves.toEqual({ kind: 'answer', result: answer });
    expect(requests.size).toBe(0);
    requests.reply(node.sent[0]!.reqId, answer); // a second answer is dropped
  });

  it('drops the answer of a cancelled call and ends the calls of a node that stops', async () => {
    const requests = new WorkerRequests();
    const node = target();
    const cancelled = requests.send('n1', node, request);
    const other = requests.send('n2', node, request);
    cancelled.cancel();
    expect(requests.size).toBe(1);
    requests.reply(node.sent[0]!.reqId, answer);
    requests.nodeDown('n2', 'exited with code 1');
    await expect(other.reply).resolves.toEqual({ kind: 'down', reason: 'exited with code 1' });
    const settled = await Promise.race([cancelled.reply, Promise.resolve('pending')]);
    expect(settled).toBe('pending');
  });

  it('reports a node that is not running at once', async () => {
    const requests = new WorkerRequests();
    const call = requests.send('n1', { isRunning: false, request: () => {} }, request);
    await expect(call.reply).resolves.toEqual({ kind: 'down', reason: 'was not running' });
    expect(requests.size).toBe(0);
  });

  it('sums the service time of answered requests, send to the answer leaving the node', async () => {
    const requests = new WorkerRequests();
    const node = target();
    requests.send('n1', node, request);
    requests.send('n1', node, request);
    const dropped = requests.send('n1', node, request);
    const sentBy = processClockMs();
    requests.reply(node.sent[0]!.reqId, answer, sentBy + 30); // its thread posted it 30 ms on
    requests.reply(node.sent[1]!.reqId, answer, sentBy + 10);
    dropped.cancel();
    requests.reply(node.sent[2]!.reqId, answer, sentBy + 500); // nobody waits: not a sample
    const { count, sumMs } = requests.serviceTime();
    expect(count).toBe(2);
    // Sent at most a few ms before sentBy: 40 ms, plus that.
    expect(sumMs).toBeGreaterThanOrEqual(40);
    expect(sumMs).toBeLessThan(60);
    // A node on the caller's thread answers now: its time is up to this reading.
    requests.send('n1', node, request);
    requests.reply(node.sent[3]!.reqId, answer);
    expect(requests.serviceTime().count).toBe(3);
  });
});
