// One long-running child process (btcd or lnd) with its output in a log file, and a process-wide
// registry that kills every daemon still running when this process exits or is interrupted, so a
// crashed test never leaves nodes behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const running = new Set<Daemon>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const d of running) d.killNow();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAllNow();
      // Re-raise so the exit status still says which signal ended us.
      process.kill(process.pid, sig);
    });
  }
}

export class Daemon {
  private child: ChildProcess | undefined;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly bin: string,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** Why the process ended, for error messages ("exited with code 1"). */
  describeExit(): string {
    if (!this.exitInfo) return 'still running';
    const { code, signal } = this.exitInfo;
    return signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
  }

  start(args: string[], env: NodeJS.ProcessEnv = process.env): void {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    installExitHooks();
    // Appending keeps the output of earlier runs of the same node (restarts) in one file.
    const fd = openSync(this.logFile, 'a');
    const child = spawn(this.bin, args, { stdio: ['ignore', fd, fd], env });
    closeSync(fd);
    this.child = child;
    this.exitInfo = undefined;
    running.add(this);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        running.delete(this);
        resolve();
      });
      child.once('error', (err) => {
        this.exitInfo = { code: null, signal: null };
        running.delete(this);
        process.stderr.write(`[regtest] ${this.name}: ${err.message}\n`);
        resolve();
      });
    });
  }

  /** Sends SIGTERM (both daemons shut down cleanly on it), then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.isRunning) return;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves when the process has ended (for a graceful stop requested over RPC). */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.isRunning) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const r = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return r;
  }

  killNow(): void {
    if (this.isRunning) this.child?.kill('SIGKILL');
  }

  /** SIGKILL and wait for the process to be gone (teardown: the data is thrown away anyway). */
  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }
}
