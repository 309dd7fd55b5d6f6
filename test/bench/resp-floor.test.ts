/**
 * The floors of bench:redis (bench/peers/resp-floor.mjs): on one thread and across a thread hop,
 * each stores what SET sends and GET returns it, byte for byte, in the order a pipeline sent
 * the commands, with a value split over many TCP writes too; what it does not serve is an
 * error, not a dropped connection. A floor that answered without storing would make ringkv's
 * figures look worse than they are.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startListening, stopListeningChildren } from './listening-child.js';

afterEach(stopListeningChildren);

function start(threads: number): Promise<number> {
  const args = ['--import', 'tsx', 'bench/peers/resp-floor.mjs', '--sources'];
  return startListening([...args, '--threads', String(threads)]);
}

function command(...args: (string | Buffer)[]): Buffer {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Writes `pieces` one by one and reads until `expectedBytes` came back (or 10 s passed). */
function exchange(port: number, pieces: readonly Buffer[], expectedBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${received} of ${expectedBytes} reply bytes within 10 s`));
    }, 10_000);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < expectedBytes) return;
      clearTimeout(timer);
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

describe.each([1, 2])('bench:redis floor with %i thread(s)', (threads) => {
  it('keeps what SET sends, in pipeline order, values split over writes too', async () => {
    const port = await start(threads);
    const big = Buffer.alloc(200_000, 7);
    big.write('end', big.length - 3);
    const pipeline = Buffer.concat([
      command('SET', 'a', 'one'),
      command('GET', 'a'),
      command('SET', 'a', 'two'),
      command('GET', 'a'),
      command('GET', 'missing'),
      command('PING'),
      command('INCR', 'a'),
      command('SET', 'big', big),
    ]);
    const pieces: Buffer[] = [pipeline.subarray(0, 100_000), pipeline.subarray(100_000)];
    pieces.push(command('GET', 'big'));
    const replies = [
      '+OK\r\n$3\r\none\r\n+OK\r\n$3\r\ntwo\r\n$-1\r\n+PONG\r\n',
      '-ERR the floor server serves SET key value, GET key and PING only\r\n',
      '+OK\r\n',
    ].join('');
    const bigReply = Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n')]);
    const got = await exchange(port, pieces, replies.length + bigReply.length);
    expect(got.subarray(0, replies.length).toString()).toBe(replies);
    expect(got.subarray(replies.length).equals(bigReply)).toBe(true);
  });
});
