/** For tests that spawn `ringkv up`: the URL it prints on its first line. */
import type { ChildProcess } from 'node:child_process';

/** Resolves with the URL `up` prints on its first line; rejects if it exits first or takes 30 s. */
export function awaitUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`up did not start: ${stderr}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk;
      const match = /^ringkv is up at (https?:\/\/\S+)$/m.exec(stdout);
      if (match === null) return;
      clearTimeout(timer);
      resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`up exited with ${code}: ${stderr}`)));
  });
}
