/**
 * What a failed command answers. A RespError keeps its code; ringkv's named errors get a code
 * of their own as the error's first word, so a client can match on it:
 *
 *   ERR          bad input (ValidationError), anything unexpected (logged, message not exposed)
 *   QUORUM       quorum not met             TIMEOUT      the cluster did not answer in time
 *   UNAVAILABLE  no replica reachable       OVERLOAD     too many requests in flight
 *   SIBLINGS     the key hit the sibling limit (resolve with RINGKV.SIBLINGS + RINGKV.PUT)
 *   BUSY         a membership change runs
 */
import {
  BusyError,
  OverloadError,
  QuorumError,
  SiblingLimitError,
  StorageFullError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from '../../errors.js';
import { error, type Reply, RespError } from './reply.js';

const CODES: ReadonlyArray<readonly [new (...args: never[]) => Error, string]> = [
  [ValidationError, 'ERR'],
  [QuorumError, 'QUORUM'],
  [TimeoutError, 'TIMEOUT'],
  [UnavailableError, 'UNAVAILABLE'],
  [OverloadError, 'OVERLOAD'],
  [SiblingLimitError, 'SIBLINGS'],
  [BusyError, 'BUSY'],
  [StorageFullError, 'OOM'],
];

/** The reply for `thrown`; `unexpected` says whether it deserves a log line. */
export function errorReply(thrown: unknown): { reply: Reply; unexpected: boolean } {
  if (thrown instanceof RespError)
    return { reply: error(thrown.code, thrown.message), unexpected: false };
  for (const [type, code] of CODES) {
    if (thrown instanceof type)
      return { reply: error(code, (thrown as Error).message), unexpected: false };
  }
  return { reply: error('ERR', 'internal error (logged by the server)'), unexpected: true };
}
