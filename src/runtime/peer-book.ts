/**
 * Where a node process reaches each peer, kept in `${dataDir}/peers.json` so a node restarted
 * after a kill -9 can dial peers it never had in --initial-cluster (it joined later, or they
 * did). Filled from the command line, from a member's answer to a join, and from the addresses
 * membership gossip reports (`peer-address` effects). The core treats an address as an opaque
 * string; it is checked here, at the boundary, and an address that is not HOST:PORT is refused
 * (the caller logs it) and never reaches the transport. Bounded by MEMBERS_MAX.
 */
import path from 'node:path';
import { MEMBERS_MAX } from '../core/swim.js';
import { type NodeId, nodeId } from '../core/types.js';
import { ValidationError } from '../errors.js';
import type { PeerAddress } from '../transport/tcp.js';
import { isNodeIdText } from '../util/node-id.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import type { Logger } from './log.js';
import { formatHostPort, parseHostPort } from './node-identity.js';

export const PEER_BOOK_FILE = 'peers.json';
const PEER_BOOK_VERSION = 1;

export class PeerBook {
  private readonly addresses = new Map<NodeId, PeerAddress>();

  private constructor(
    private readonly file: string,
    private readonly self: NodeId,
  ) {}

  /** The book in `dataDir` (empty when there is none yet). */
  static load(dataDir: string, self: NodeId): PeerBook {
    const book = new PeerBook(path.join(dataDir, PEER_BOOK_FILE), self);
    const parsed = readJsonFile(book.file) as { version?: unknown; peers?: unknown } | null;
    if (parsed === null) return book;
    const peers = parsed.peers;
    if (parsed.version !== PEER_BOOK_VERSION || typeof peers !== 'object' || peers === null) {
      throw new ValidationError(`${book.file} is not a ringkv peer list: fix or remove it`);
    }
    for (const [id, text] of Object.entries(peers)) {
      if (!isNodeIdText(id) || typeof text !== 'string') {
        throw new ValidationError(`${book.file} lists a bad peer ${JSON.stringify(id)}`);
      }
      book.addresses.set(nodeId(id), parseHostPort(text, `${book.file} address of ${id}`));
    }
    return book;
  }

  get(peer: NodeId): PeerAddress | undefined {
    return this.addresses.get(peer);
  }

  has(peer: NodeId): boolean {
    return this.addresses.has(peer);
  }

  entries(): [NodeId, PeerAddress][] {
    return [...this.addresses];
  }

  /**
   * Records `peer` at `text` (HOST:PORT). Returns the parsed address when it is new or changed,
   * null when nothing changed; throws a ValidationError for a bad id or address.
   */
  set(peer: string, text: string): PeerAddress | null {
    if (!isNodeIdText(peer)) throw new ValidationError(`bad peer id ${JSON.stringify(peer)}`);
    const address = parseHostPort(text, `address of ${peer}`);
    const id = nodeId(peer);
    if (id === this.self) return null;
    const old = this.addresses.get(id);
    if (old !== undefined && old.host === address.host && old.port === address.port) return null;
    if (old === undefined && this.addresses.size >= MEMBERS_MAX) {
      throw new ValidationError(`more than ${MEMBERS_MAX} peers: ${peer} not recorded`);
    }
    this.addresses.set(id, address);
    return address;
  }

  /**
   * Writes the book, logging a failure instead of throwing: the transport already dials the
   * new address, and only a restart would miss it.
   */
  saveOrWarn(log: Logger): void {
    try {
      this.save();
    } catch (error) {
      log.warn({ reason: (error as Error).message }, 'could not save peers.json');
    }
  }

  /** Writes the book (atomically). */
  save(): void {
    const peers: Record<string, string> = {};
    for (const [id, address] of [...this.addresses].sort(([a], [b]) => (a < b ? -1 : 1))) {
      peers[id] = formatHostPort(address);
    }
    writeJsonFile(this.file, { version: PEER_BOOK_VERSION, peers });
  }
}
