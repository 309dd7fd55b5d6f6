/** Where CLI commands write: stdout (text or raw bytes) and stderr. Tests pass their own. */
export interface CliIo {
  out(data: string | Uint8Array): void;
  err(text: string): void;
  /** Stdout is a terminal: raw values get a trailing newline there, never in a pipe. */
  readonly isTty: boolean;
  /** Standard input; absent (as in tests) counts as a terminal: nothing piped in. */
  readonly stdin?: StdinSource;
}

export interface StdinSource {
  /** A terminal: a value is not piped in, so `put KEY` without one is an error, not a wait. */
  readonly isTty: boolean;
  /** Everything piped in; rejects past `limitBytes` rather than buffer without end. */
  read(limitBytes: number): Promise<Buffer>;
}

async function readProcessStdin(limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new Error(`more than ${limitBytes} bytes piped in`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export const processCliIo: CliIo = {
  out: (data) => void process.stdout.write(data),
  err: (text) => void process.stderr.write(text),
  isTty: process.stdout.isTTY === true,
  stdin: { isTty: process.stdin.isTTY === true, read: readProcessStdin },
};
