// One worker of the raw MessageChannel mesh benchmark (bench/cluster.bench.ts): it sends
// batches of replica-put-shaped messages round-robin to its peers and counts what it receives,
// mimicking the transport's batched posts without any protocol work.
import { parentPort, workerData } from 'node:worker_threads';

const { batchSize, valueBytes, id } = workerData;
const ports = [];
let received = 0;
let running = false;

function message(i) {
  const value = new Uint8Array(valueBytes);
  return {
    type: 'replica-put',
    v: 1,
    opId: i,
    key: `key-${i}`,
    record: { siblings: [{ dot: [id, i], past: [], value }] },
  };
}

function pump() {
  if (!running) return;
  for (const port of ports) {
    const batch = [];
    for (let i = 0; i < batchSize; i++) batch.push(message(i));
    port.postMessage(batch);
  }
  setImmediate(pump);
}

parentPort.on('message', (msg) => {
  if (msg.type === 'connect') {
    ports.push(msg.port);
    msg.port.on('message', (batch) => {
      received += batch.length;
    });
  } else if (msg.type === 'start') {
    running = true;
    received = 0;
    pump();
  } else if (msg.type === 'stop') {
    running = false;
    parentPort.postMessage({ type: 'count', received });
  } else if (msg.type === 'close') {
    for (const port of ports) port.close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: 'ready' });
