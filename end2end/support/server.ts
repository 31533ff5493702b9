// Runs the built jobchat server for a spec: a fresh SQLite database seeded
// with the demo accounts, on a fixed port, and restarts it on demand (the
// connection-recovery test stops it mid-conversation).
import { spawn, ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Every spec signs up and books from 127.0.0.1, far past the per-address
 * defaults meant for the public; the server's own tests cover the limits. */
export const TEST_LIMITS: Record<string, string> = {
  JOBCHAT_REGISTER_LIMIT_PER_IP_PER_HOUR: '100000',
  JOBCHAT_BOOK_LIMIT_PER_IP_PER_HOUR: '100000',
  JOBCHAT_BOOK_LIMIT_PER_USER_PER_HOUR: '100000',
  JOBCHAT_LOGIN_LIMIT_PER_IP_PER_MIN: '100000',
  JOBCHAT_DISPUTE_REOPEN_COOLDOWN_SECS: '0',
  JOBCHAT_READ_LIMIT_PER_USER_PER_MIN: '100000',
  JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN: '100000',
  JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN: '100000',
};

export class Server {
  private proc: ChildProcess | null = null;
  readonly dataDir: string;

  /** `env`: extra environment for the server (e.g. a fault to inject). */
  constructor(readonly port: number, name: string, private readonly env: Record<string, string> = {}) {
    this.dataDir = path.join(root, 'target', 'e2e-data', name);
  }

  get baseURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(fresh = true): Promise<void> {
    if (fresh) {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
    mkdirSync(this.dataDir, { recursive: true });
    this.proc = spawn(path.join(root, 'target', 'debug', 'server'), [], {
      cwd: root,
      env: {
        ...process.env,
        JOBCHAT_DATA_DIR: this.dataDir,
        JOBCHAT_DEMO_DATA: '1',
        DATABASE_URL: `sqlite://${this.dataDir}/jobchat.db`,
        JOBCHAT_BIND: `127.0.0.1:${this.port}`,
        LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
        ...TEST_LIMITS,
        ...this.env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.baseURL}/healthz`);
        if (res.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`server on ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}
