/** Where CLI commands write: stdout (text or raw bytes) and stderr. Tests pass their own. */
export interface CliIo {
  out(data: string | Uint8Array): void;
  err(text: string): void;
  /** Stdout is a terminal: raw values get a trailing newline there, never in a pipe. */
  readonly isTty: boolean;
}

export const processCliIo: CliIo = {
  out: (data) => void process.stdout.write(data),
  err: (text) => void process.stderr.write(text),
  isTty: process.stdout.isTTY === true,
};
