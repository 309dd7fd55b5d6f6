/**
 * What the log engine (log.ts) does on open: reads its directory (log-dir.ts) back into memory
 * and finds the file to append to. Obsolete files (a finished compaction's leftovers, a `.tmp`
 * a crash left) are deleted; the newest snapshot is replayed, then every log after it in order.
 * A torn frame at the end of the newest log (an append a crash cut short, never acknowledged)
 * is cut off; damage anywhere else refuses to open, naming the file, rather than opening with
 * data missing.
 */
import fs from 'node:fs';
import { StorageError } from './engine.js';
import { openSegment, type Segment } from './log-appender.js';
import { filePath, logFileName, removeObsoleteFiles, snapshotFileName } from './log-dir.js';
import { readFileFrames } from './log-frame.js';

/** What recovery found. */
export interface Recovered {
  /** The log to append to: the newest, or a new one when there was none. */
  readonly segment: Segment;
  /** Valid bytes in `segment`. */
  readonly segmentBytes: number;
  /** Valid bytes in the logs since the snapshot other than `segment`. */
  readonly olderLogBytes: number;
  /** Size of the snapshot replayed (0: none). */
  readonly snapshotBytes: number;
}

/** Replays `directory` through `replay` (each frame's payload, with its file's name). */
export async function recoverLogDirectory(
  directory: string,
  replay: (payload: Buffer, file: string) => void,
): Promise<Recovered> {
  const found = await removeObsoleteFiles(directory);
  let snapshotBytes = 0;
  if (found.snapshot > 0) {
    const name = snapshotFileName(found.snapshot);
    const read = await readFileFrames(filePath(directory, name), (payload) =>
      replay(payload, name),
    );
    if (read.validBytes !== read.fileBytes) throw damaged(directory, name, read.validBytes);
    snapshotBytes = read.fileBytes;
  }
  let olderLogBytes = 0;
  let newestBytes = 0;
  for (const [i, generation] of found.logs.entries()) {
    olderLogBytes += newestBytes;
    newestBytes = await replayLog(directory, generation, i === found.logs.length - 1, replay);
  }
  const last = found.logs.at(-1);
  if (last === undefined) {
    const segment = await openSegment(directory, Math.max(1, found.snapshot));
    return { segment, segmentBytes: 0, olderLogBytes, snapshotBytes };
  }
  const handle = await fs.promises.open(filePath(directory, logFileName(last)), 'a');
  const segment = { generation: last, handle };
  return { segment, segmentBytes: newestBytes, olderLogBytes, snapshotBytes };
}

/** Replays one log, returning its valid length; the newest may end in a torn frame, cut off. */
async function replayLog(
  directory: string,
  generation: number,
  newest: boolean,
  replay: (payload: Buffer, file: string) => void,
): Promise<number> {
  const name = logFileName(generation);
  const file = filePath(directory, name);
  const read = await readFileFrames(file, (payload) => replay(payload, name));
  if (read.validBytes !== read.fileBytes) {
    if (!newest) throw damaged(directory, name, read.validBytes);
    const handle = await fs.promises.open(file, 'r+');
    try {
      await handle.truncate(read.validBytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
  return read.validBytes;
}

function damaged(directory: string, name: string, validBytes: number): StorageError {
  return new StorageError(
    `log storage file ${filePath(directory, name)} is damaged after byte ${validBytes} ` +
      '(not at the end of the newest log, where a crash could have cut an append short). ' +
      'The node does not start with data missing: restore the file from a backup, or move ' +
      `${directory} aside to start the node empty and let its replicas' anti-entropy copy ` +
      'its keys back',
  );
}
