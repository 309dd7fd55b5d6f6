import { describe, expect, it } from 'vitest';
import {
  explainFrom,
  fallbacksOf,
  verdictOf,
  writtenThrough,
} from '../../src/client/key-explain.js';
import type { NodeKeyView } from '../../src/core/explain.js';
import type { KeyRecord, NodeId, Sibling } from '../../src/core/types.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const v1: Sibling = { dot: ['n1.aa', 1], past: [], value: bytes('one') };
/** Supersedes v1. */
const v2: Sibling = { dot: ['n1.aa', 2], past: [['n1.aa', 1]], value: bytes('two') };
/** Concurrent with v2: written through n3 without having seen v2. */
const c3: Sibling = { dot: ['n3.cc', 1], past: [['n1.aa', 1]], value: bytes('three') };
const gone: Sibling = { dot: ['n2.bb', 1], past: [['n1.aa', 2]], value: null };
const rec = (...siblings: Sibling[]): KeyRecord => ({ siblings });

function view(
  node: string,
  record: KeyRecord | null,
  extra: Partial<NodeKeyView> = {},
): NodeKeyView {
  return {
    node: node as NodeId,
    partition: 7,
    replicates: true,
    record,
    writePending: false,
    hints: [],
    coordinating: false,
    reapPending: false,
    downPeers: [],
    antiEntropy: [],
    ...extra,
  };
}

type Views = Record<string, NodeKeyView | 'down' | 'silent'>;

function verdict(views: Views, preferenceList = ['n1', 'n2', 'n3']): string[] {
  return verdictOf({
    key: 'k',
    partition: 7,
    n: preferenceList.length,
    preferenceList,
    walk: [...preferenceList, 'n4', 'n5'],
    views: new Map(Object.entries(views)),
  });
}

const CASES: ReadonlyArray<[string, Views, readonly string[]]> = [
  [
    'nobody holds it',
    { n1: view('n1', null), n2: view('n2', null), n3: view('n3', null) },
    ['No node holds this key: never written, or deleted and reaped.'],
  ],
  [
    'three replicas agree',
    { n1: view('n1', rec(v2)), n2: view('n2', rec(v2)), n3: view('n3', rec(v2)) },
    ['3 replicas agree.'],
  ],
  [
    'a replica behind, a hint will deliver',
    {
      n1: view('n1', rec(v2)),
      n2: view('n2', rec(v1)),
      n3: view('n3', rec(v2)),
      n5: view('n5', null, {
        replicates: false,
        hints: [{ for: 'n2' as NodeId, record: rec(v2) }],
      }),
    },
    [
      'n2 is missing the newest write: a hint on n5 will deliver it.',
      '2 of 3 replicas hold the newest version.',
    ],
  ],
  [
    'a replica down, its hint held elsewhere',
    {
      n1: view('n1', rec(v2)),
      n2: 'down',
      n3: view('n3', rec(v2)),
      n4: view('n4', null, {
        replicates: false,
        hints: [{ for: 'n2' as NodeId, record: rec(v2) }],
      }),
    },
    [
      'n2 is down: a hint on n4 will deliver the newest write when it is back.',
      '2 of 3 replicas hold the newest version.',
    ],
  ],
  [
    'siblings from concurrent writes',
    { n1: view('n1', rec(v2, c3)), n2: view('n2', rec(v2, c3)), n3: view('n3', rec(v2, c3)) },
    [
      '2 siblings: concurrent writes through n1 and n3; read it and write back with its context to resolve them.',
      '3 replicas agree.',
    ],
  ],
  [
    'a replica with no copy, a read repair in flight',
    {
      n1: view('n1', rec(v2), { coordinating: true }),
      n2: view('n2', null),
      n3: view('n3', rec(v2)),
    },
    [
      'n2 holds no copy: n1 is coordinating an operation on the key and may repair it.',
      '2 of 3 replicas hold the newest version.',
    ],
  ],
  [
    'behind, left to anti-entropy',
    {
      n1: view('n1', rec(v2)),
      n2: view('n2', rec(v1), {
        antiEntropy: [{ peer: 'n1' as NodeId, msAgo: 1500, differed: false }],
      }),
      n3: view('n3', rec(v2)),
    },
    [
      'n2 is missing the newest write: anti-entropy or the next read will repair it (its partition was last compared 1500 ms ago).',
      '2 of 3 replicas hold the newest version.',
    ],
  ],
  [
    'deleted, reap pending; a silent replica',
    { n1: view('n1', rec(gone), { reapPending: true }), n2: view('n2', rec(gone)), n3: 'silent' },
    [
      'Deleted: only tombstones remain; a reap of them is pending.',
      'n3 did not answer in time: its copy is unknown.',
      '2 of 3 replicas hold the newest version.',
    ],
  ],
  [
    'a process node sees only itself',
    { n1: view('n1', rec(v2), { writePending: true }) },
    [
      'n2 runs in another process: ask its own /explain for its copy.',
      'n3 runs in another process: ask its own /explain for its copy.',
      '1 of the 1 replica(s) seen from here hold the newest version known here.',
      'n1 has a write of the key not yet durable.',
    ],
  ],
];

describe('verdictOf', () => {
  it.each(CASES)('%s', (_name, views, expected) => {
    expect(verdict(views)).toEqual(expected);
  });
});

describe('explainFrom', () => {
  it('names stand-ins for down primaries, in walk order, and shows siblings with dots', () => {
    const e = explainFrom({
      key: 'k',
      partition: 7,
      n: 3,
      preferenceList: ['n1', 'n2', 'n3'],
      walk: ['n1', 'n2', 'n3', 'n4', 'n5'],
      views: new Map<string, NodeKeyView | 'down' | 'silent'>([
        ['n1', view('n1', rec(v2))],
        ['n2', 'down'],
        ['n3', view('n3', rec(gone))],
        ['n4', 'down'],
        ['n5', view('n5', null)],
      ]),
    });
    expect(e.fallbacks).toEqual([{ for: 'n2', node: 'n5' }]);
    const n1 = e.nodes.find((n) => n.node === 'n1')!;
    expect(n1.siblings).toEqual([
      { dot: ['n1.aa', 2], writtenThrough: 'n1', tombstone: false, bytes: 3, text: 'two' },
    ]);
    expect(e.nodes.find((n) => n.node === 'n3')!.siblings![0]!.tombstone).toBe(true);
    expect(e.nodes.find((n) => n.node === 'n2')!.state).toBe('down');
  });

  it('shows a version expiry when the record carries one', () => {
    const expiring = { ...v2, expiresAtMs: 1_800_000_000_000 } as Sibling;
    const e = explainFrom({
      key: 'k',
      partition: 7,
      n: 1,
      preferenceList: ['n1'],
      walk: ['n1'],
      views: new Map([['n1', view('n1', rec(expiring))]]),
    });
    expect(e.nodes[0]!.siblings![0]!.expiresAtMs).toBe(1_800_000_000_000);
  });

  it('reads the node out of an actor id, and stands in no one while all are up', () => {
    expect(writtenThrough('n12.deadbeef')).toBe('n12');
    expect(writtenThrough('weird')).toBe('weird');
    expect(fallbacksOf(['a', 'b'], ['a', 'b', 'c'], () => false)).toEqual([]);
  });
});
