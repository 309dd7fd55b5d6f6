/**
 * A node's actor id (see core/types.ts ActorId): the node id plus a random epoch, created once
 * and kept in the storage engine's metadata. A durable node keeps its actor across restarts; a
 * volatile one (memory engine) gets a fresh actor each start, so it can never reissue a dot it
 * issued before it forgot its data.
 */
import { randomBytes } from 'node:crypto';
import type { StorageEngine } from '../storage/engine.js';

const ACTOR_META = 'actor';

export async function loadOrCreateActor(nodeId: string, storage: StorageEngine): Promise<string> {
  const stored = storage.getMeta(ACTOR_META);
  if (typeof stored === 'string' && stored.startsWith(`${nodeId}.`)) return stored;
  const actor = `${nodeId}.${randomBytes(4).toString('hex')}`;
  await storage.putMeta(ACTOR_META, actor);
  return actor;
}
