// Runs a short-lived CLI (lncli, btcctl) and returns its stdout; a failure carries the command line
// and the tool's own error text so a broken setup step explains itself.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly code: number | string | null,
  ) {
    super(`${command} failed (${String(code)}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'CommandError';
  }
}

/** `connArgs` (connection flags, the same on every call) go first and are left out of error messages. */
export async function runCommand(
  bin: string,
  connArgs: string[],
  args: string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      [...connArgs, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env },
      (err, stdout, stderr) => {
        if (err) {
          const shown = [basename(bin), ...args].join(' ');
          const code = (err as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CommandError(shown, `${stderr}${stdout ? `\n${stdout}` : ''}` || err.message, code));
          return;
        }
        resolve(stdout);
      },
    );
  });
}
