import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frameHeader, readFileFrames, readFrames } from '../../src/storage/log-frame.js';

function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  return Buffer.concat([frameHeader(payload), payload]);
}

describe('log frames', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('says why reading stopped: the end, a frame cut short, a damaged frame', () => {
    const two = Buffer.concat([frame('one'), frame('two')]);
    expect(readFrames(two)).toMatchObject({ validBytes: two.length, stop: 'end' });
    expect(readFrames(two.subarray(0, two.length - 1))).toMatchObject({
      validBytes: frame('one').length,
      stop: 'short',
    });
    const damaged = Buffer.from(two);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 1, damaged.length - 1);
    expect(readFrames(damaged)).toMatchObject({ validBytes: frame('one').length, stop: 'damaged' });
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(0xffffffff, 0);
    expect(readFrames(huge)).toMatchObject({ validBytes: 0, stop: 'damaged' });
  });

  it('reads a file in chunks, frames straddling chunk boundaries included', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-frames-'));
    const file = path.join(dir, 'log');
    const texts = Array.from({ length: 200 }, (_, i) => `frame ${i} `.repeat(1 + (i % 7)));
    const whole = Buffer.concat(texts.map(frame));
    fs.writeFileSync(file, Buffer.concat([whole, frame('torn').subarray(0, 6)]));
    for (const chunk of [7, 64, 1000, 1 << 20]) {
      const seen: string[] = [];
      const read = await readFileFrames(file, (payload) => seen.push(payload.toString()), chunk);
      expect(seen).toEqual(texts);
      expect(read).toEqual({ validBytes: whole.length, fileBytes: whole.length + 6 });
    }
  });

  it('stops reading a file at a damaged frame even when more bytes follow', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-frames-'));
    const file = path.join(dir, 'log');
    const bad = frame('bad');
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 1, bad.length - 1);
    fs.writeFileSync(file, Buffer.concat([frame('good'), bad, frame('after')]));
    const seen: string[] = [];
    const read = await readFileFrames(file, (payload) => seen.push(payload.toString()), 5);
    expect(seen).toEqual(['good']);
    expect(read.validBytes).toBe(frame('good').length);
  });
});
