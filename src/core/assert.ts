/**
 * Invariant assertions for the protocol core. A failed assertion is a bug in ringkv, never a
 * user error: user input is validated at the API boundary and rejected with a ValidationError.
 */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
