/**
 * A KvClient whose put, get and delete first take a permit from an AdmissionController and give
 * it back with how the call ended: the one place where a front (HTTP, RESP) applies admission,
 * so every front of a process shares the controller's bound. A refused call rejects with an
 * AdmissionRefusedError (an OverloadError: HTTP 503 with Retry-After). A coordinator's own
 * overload answer or a timeout tells the controller the cluster is past its capacity
 * ('dropped'); a bad request or a caller gone away tells it nothing ('ignore').
 */
import type {
  DeleteOptions,
  GetOptions,
  GetResult,
  KvClient,
  PutOptions,
  PutResult,
  ValueInput,
} from '../client/types.js';
import { OverloadError, TimeoutError, ValidationError } from '../errors.js';
import type { AdmissionController, AdmissionOutcome } from './admission.js';
import type { AbortLike } from './request-signal.js';

export function admitClient(client: KvClient, admission: AdmissionController): KvClient {
  const admitted = async <T>(signal: AbortSignal | undefined, call: () => Promise<T>) => {
    const permit = await admission.acquire(signal);
    let outcome: AdmissionOutcome = 'ok';
    try {
      return await call();
    } catch (error) {
      outcome = outcomeOf(error, signal);
      throw error;
    } finally {
      permit.release(outcome);
    }
  };
  return {
    put: (key: string, value: ValueInput, options?: PutOptions): Promise<PutResult> =>
      admitted(options?.signal, () => client.put(key, value, options)),
    delete: (key: string, options?: DeleteOptions): Promise<PutResult> =>
      admitted(options?.signal, () => client.delete(key, options)),
    get: (key: string, options?: GetOptions): Promise<GetResult> =>
      admitted(options?.signal, () => client.get(key, options)),
    status: () => client.status(),
  };
}

/** What a failed call says about capacity (see the file comment). */
export function outcomeOf(error: unknown, signal?: AbortLike): AdmissionOutcome {
  if (error instanceof OverloadError || error instanceof TimeoutError) return 'dropped';
  if (error instanceof ValidationError) return 'ignore';
  if (signal?.aborted) return 'ignore';
  return 'ok';
}
