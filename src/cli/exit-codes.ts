/**
 * Exit codes of every `ringkv` command, stable for scripts:
 *
 *   0  success (for `get`: the key was found, one value or siblings)
 *   1  the cluster answered with an error: quorum not met, timeout, unavailable (HTTP 5xx),
 *      too many siblings (409), or `up` failed to start
 *   2  bad arguments: rejected by the command line or by the server (HTTP 400, 405, 413)
 *   3  cannot reach the cluster: connection refused, unknown host, or no answer in time
 *   4  not found: the key (get, delete) or the node (kill, restart) does not exist
 */
export const EXIT_OK = 0;
export const EXIT_CLUSTER = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;
export const EXIT_NOT_FOUND = 4;

/** A command failure with the message to print and the exit code to leave with. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The exit code for an HTTP error status from the ringkv API. */
export function exitCodeForStatus(status: number): number {
  if (status === 404) return EXIT_NOT_FOUND;
  if (status === 400 || status === 405 || status === 413) return EXIT_USAGE;
  return EXIT_CLUSTER;
}

/** `up` failed to start, with the message to print and the process exit code. */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
