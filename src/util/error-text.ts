/** What to log or report of a caught value: an Error's stack (its message if it has none). */
export function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
