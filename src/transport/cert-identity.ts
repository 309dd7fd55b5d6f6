/**
 * Which node a certificate speaks for. A ringkv node certificate names its node id as a SAN URI
 * `ringkv://node/<id>` (and in its subject CN, for people; only the SAN counts). The CA makes
 * the binding; the transport checks that the id a peer claims is the id its certificate names.
 */
import type { X509Certificate } from 'node:crypto';
import { type NodeId, nodeId } from '../core/types.js';
import { isNodeIdText } from '../util/node-id.js';

/** The SAN URI prefix that carries a node id. */
export const NODE_URI_PREFIX = 'ringkv://node/';

/** The SAN URI naming node `id`. */
export function nodeUri(id: string): string {
  return `${NODE_URI_PREFIX}${id}`;
}

/**
 * The node id a certificate names: its one `ringkv://node/<id>` SAN URI with a valid id. Null
 * when it has none, more than one, or an id outside the node-id pattern.
 */
export function nodeIdOfCertificate(cert: X509Certificate): NodeId | null {
  const san = cert.subjectAltName;
  if (san === undefined) return null;
  // Node lists entries as `URI:…, DNS:…`; an entry holding a comma or quote is JSON-quoted,
  // which a valid node URI never needs, so a quoted one cannot match below.
  const ids = san
    .split(', ')
    .filter((entry) => entry.startsWith(`URI:${NODE_URI_PREFIX}`))
    .map((entry) => entry.slice(`URI:${NODE_URI_PREFIX}`.length));
  if (ids.length !== 1) return null;
  const [id] = ids;
  return id !== undefined && isNodeIdText(id) ? nodeId(id) : null;
}
