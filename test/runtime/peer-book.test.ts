import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeId } from '../../src/core/types.js';
import { ValidationError } from '../../src/errors.js';
import { PEER_BOOK_FILE, PeerBook } from '../../src/runtime/peer-book.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ringkv-peers-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('PeerBook (peers.json)', () => {
  it('records new and changed addresses, ignores itself, and reads back what it saved', () => {
    const book = PeerBook.load(dir, nodeId('n1'));
    expect(book.set('n2', '10.0.0.2:7000')).toEqual({ host: '10.0.0.2', port: 7000 });
    expect(book.set('n2', '10.0.0.2:7000')).toBeNull(); // unchanged
    expect(book.set('n2', '[::1]:7001')).toEqual({ host: '::1', port: 7001 });
    expect(book.set('n1', '10.0.0.1:7000')).toBeNull(); // itself: never dialed
    book.save();
    const again = PeerBook.load(dir, nodeId('n1'));
    expect(again.entries()).toEqual([[nodeId('n2'), { host: '::1', port: 7001 }]]);
    expect(JSON.parse(readFileSync(join(dir, PEER_BOOK_FILE), 'utf8')).peers).toEqual({
      n2: '[::1]:7001',
    });
  });

  it('refuses a gossiped address that is not HOST:PORT, or a bad id, and keeps the old one', () => {
    const book = PeerBook.load(dir, nodeId('n1'));
    book.set('n2', 'a:1');
    expect(() => book.set('n2', 'a')).toThrow(ValidationError);
    expect(() => book.set('n2', 'a:0')).toThrow(/address of n2/);
    expect(() => book.set('../x', 'a:1')).toThrow(/bad peer id/);
    expect(book.get(nodeId('n2'))).toEqual({ host: 'a', port: 1 });
  });

  it('refuses a damaged file with a clear message', () => {
    writeFileSync(join(dir, PEER_BOOK_FILE), '{"version":1,"peers":{"n2":"nowhere"}}');
    expect(() => PeerBook.load(dir, nodeId('n1'))).toThrow(/peers.json address of n2/);
    writeFileSync(join(dir, PEER_BOOK_FILE), '{"version":7}');
    expect(() => PeerBook.load(dir, nodeId('n1'))).toThrow(/not a ringkv peer list/);
  });
});
