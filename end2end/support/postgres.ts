// A PostgreSQL cluster of a spec's own (initdb into a temp dir, its own
// port), so the spec can stop the database under a running server without
// touching anyone else's. Run as the `postgres` user when we are root
// (PostgreSQL refuses to run as root).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function binDir(): string {
  const base = '/usr/lib/postgresql';
  const version = existsSync(base) ? readdirSync(base).find((v) => existsSync(path.join(base, v, 'bin', 'initdb'))) : undefined;
  if (!version) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  return path.join(base, version, 'bin');
}

export class PrivatePostgres {
  private readonly bin = binDir();
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'jobchat-pg-'));
  private readonly root = process.getuid?.() === 0;

  constructor(readonly port: number) {
    if (this.root) {
      const { uid, gid } = { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
      chownSync(this.dir, uid, gid);
    }
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private run(tool: string, args: string[]) {
    const exe = path.join(this.bin, tool);
    if (this.root) execFileSync('runuser', ['-u', 'postgres', '--', exe, ...args], { stdio: 'pipe' });
    else execFileSync(exe, args, { stdio: 'pipe' });
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  init() {
    this.run('initdb', ['-D', this.data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    this.start();
  }

  start() {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this.run('pg_ctl', ['-D', this.data, '-o', opts, '-l', path.join(this.dir, 'log'), '-w', 'start']);
  }

  /** At once, as a crash would. */
  stop() {
    this.run('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
  }

  destroy() {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
