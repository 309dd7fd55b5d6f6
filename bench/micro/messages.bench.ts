/**
 * Peer message handling: the boundary check every received message goes through
 * (parsePeerMessage), msgpackr encode/decode of the same message (what a byte-oriented
 * transport such as TCP would pay) and structuredClone of it (what a MessagePort post costs in
 * serialization, the worker-thread transport's codec). The message is a replica-put of a key
 * record with one sibling holding a 1 KiB value.
 */
import { Packr } from 'msgpackr';
import {
  type PeerMessage,
  PROTOCOL_VERSION,
  parsePeerMessage,
  type ReplicaPut,
} from '../../src/core/messages.js';
import { recordWithSiblings } from './data.js';
import { consume, type MicroGroup } from './harness.js';

const INPUT_VARIANTS = 8;
const MASK = INPUT_VARIANTS - 1;
const BATCH = 256;

function replicaPut(seed: number): ReplicaPut {
  return {
    type: 'replica-put',
    v: PROTOCOL_VERSION,
    opId: 48_000 + seed,
    key: `user:${12_345 + seed}`,
    record: recordWithSiblings(1, seed),
  };
}

export const messagesGroup: MicroGroup = {
  name: 'messages',
  title: 'replica-put with a 1 KiB value: validate, msgpackr, structuredClone',
  async setup() {
    const packr = new Packr({ useRecords: false });
    const messages = Array.from({ length: INPUT_VARIANTS }, (_, i) => replicaPut(i + 1));
    // Own copies: pack() returns a view of msgpackr's reusable buffer.
    const packed = messages.map((message) => Uint8Array.from(packr.pack(message)));
    const check = parsePeerMessage(packr.unpack(packed[0]!));
    if (check === null) throw new Error('messages bench: a decoded replica-put does not parse');
    return {
      tasks: [
        {
          name: 'parsePeerMessage(replica-put)',
          opsPerSample: BATCH,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < BATCH; i++) {
              if (parsePeerMessage(messages[i & MASK]!) !== null) acc++;
            }
            consume(acc);
          },
        },
        {
          name: 'msgpackr pack',
          opsPerSample: BATCH,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < BATCH; i++) acc += packr.pack(messages[i & MASK]!).length;
            consume(acc);
          },
        },
        {
          name: 'msgpackr unpack',
          opsPerSample: BATCH,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < BATCH; i++) {
              acc += (packr.unpack(packed[i & MASK]!) as ReplicaPut).opId;
            }
            consume(acc);
          },
        },
        {
          name: 'msgpackr pack + unpack + parse',
          opsPerSample: BATCH,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < BATCH; i++) {
              const message = parsePeerMessage(packr.unpack(packr.pack(messages[i & MASK]!)));
              if (message !== null) acc++;
            }
            consume(acc);
          },
        },
        {
          name: 'structuredClone',
          opsPerSample: BATCH,
          fn: () => {
            let acc = 0;
            for (let i = 0; i < BATCH; i++) {
              acc += (structuredClone(messages[i & MASK]!) as PeerMessage).v;
            }
            consume(acc);
          },
        },
      ],
      notes: [
        `encoded size: ${packed[0]!.length} bytes of msgpack (Packr useRecords: false; unpack ` +
          'returns the value as a view of the input, no copy)',
        'structuredClone serializes and deserializes in one call, so compare it with ' +
          '"pack + unpack + parse"; a real MessagePort post adds the cross-thread hop',
      ],
    };
  },
};
