/**
 * An error that belongs to the HTTP layer itself (unknown route, wrong method, client gone),
 * as opposed to the ringkv errors the client raises. It carries its status and extra headers.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The caller closed the connection before the reply; nothing can be sent any more. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('client closed the connection');
  }
}
