// Two jobchat nodes behind nginx, as deployed: a fresh PostgreSQL database
// both nodes share, the shared Redis (under a key prefix of this run's
// own), and nginx started from a copy of deploy/nginx.conf in which only the
// upstream addresses and the listen port are changed. Everything it starts
// or creates is stopped and removed by `stop()`, which never throws.
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TEST_LIMITS } from './server';

const root = path.resolve(__dirname, '..', '..');

/** `preferred` when nothing listens there, else a port the OS picks. */
async function freePort(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(null));
      srv.listen(port, '127.0.0.1', () => {
        const got = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(got));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0))!;
}

/** nginx: $NGINX, else on PATH, else Debian's /usr/sbin/nginx (not on a user's PATH). */
function nginxBinary(): string {
  if (process.env.NGINX) return process.env.NGINX;
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  throw new Error('nginx not found: install Debian\'s nginx (scripts/setup --test) or set NGINX');
}

/** Replaces `from` by `to` in `text`, insisting it occurs exactly once. */
function substitute(text: string, from: string, to: string): string {
  const parts = text.split(from);
  if (parts.length !== 2) throw new Error(`deploy/nginx.conf: expected "${from}" exactly once, found ${parts.length - 1}`);
  return parts.join(to);
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitForExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((r) => proc.once('exit', () => r(true))),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

type Health = { status: string; database: string; redis: string; node?: string };

export type Node = { name: string; port: number; url: string; id: string; proc: ChildProcess; log: string };

export class Cluster {
  readonly run = randomBytes(4).toString('hex');
  readonly database = `jobchat_e2e_${this.run}`;
  readonly redisPrefix = `jobchat-e2e-${this.run}`;
  readonly redisUrl = process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379';
  /** The maintenance database's URL; the nodes get the same server, another database. */
  readonly adminUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  private readonly jwtSecret = randomBytes(20).toString('hex'); // 40 characters
  /** Data directories, logs and nginx's prefix; made by `start()`. */
  dir = '';
  readonly nodes: Node[] = [];
  private nginx: ChildProcess | null = null;
  private databaseCreated = false;
  port = 0;

  constructor(private readonly basePort: number) {}

  /** nginx's address: what the browsers use. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private get nginxPrefix(): string {
    return path.join(this.dir, 'nginx');
  }

  get accessLog(): string {
    return path.join(this.nginxPrefix, 'logs', 'access.log');
  }

  /** "node-1" or "node-2" for a node id from /healthz. */
  nameOf(id: string): string {
    return this.nodes.find((n) => n.id === id)?.name ?? `unknown node ${id}`;
  }

  async start(): Promise<void> {
    process.once('exit', this.killOnExit);
    this.dir = mkdtempSync(path.join(os.tmpdir(), `jobchat-cluster-${this.run}-`));
    this.createDatabase();
    const [p1, p2, pn] = [
      await freePort(this.basePort),
      await freePort(this.basePort + 1),
      await freePort(this.basePort + 2),
    ];
    // The first node seeds the demo data into the empty database; the second
    // starts once that is done and finds the accounts there.
    await this.startNode('node-1', p1);
    await this.startNode('node-2', p2);
    if (this.nodes[0].id === this.nodes[1].id) throw new Error('both nodes report the same id');
    await this.startNginx(pn);
  }

  private psql(sql: string): void {
    const res = spawnSync('psql', [this.adminUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`psql ${sql}: ${res.error ?? ''}${res.stderr}`);
  }

  private createDatabase(): void {
    this.psql(`CREATE DATABASE "${this.database}"`);
    this.databaseCreated = true;
  }

  private databaseUrl(): string {
    const url = new URL(this.adminUrl);
    url.pathname = `/${this.database}`;
    return url.toString();
  }

  private async startNode(name: string, port: number): Promise<void> {
    const dataDir = path.join(this.dir, name);
    mkdirSync(dataDir, { recursive: true });
    const log = path.join(this.dir, `${name}.log`);
    // The runner's own JOBCHAT_* settings (a fault injection, production) stay out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JOBCHAT_')));
    const proc = spawn(path.join(root, 'target', 'debug', 'server'), [], {
      cwd: root,
      env: {
        ...env,
        DATABASE_URL: this.databaseUrl(),
        REDIS_URL: this.redisUrl,
        JOBCHAT_REDIS_PREFIX: this.redisPrefix,
        JWT_SECRET: this.jwtSecret,
        JOBCHAT_DEMO_DATA: '1',
        JOBCHAT_DATA_DIR: dataDir,
        JOBCHAT_BIND: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
        ...TEST_LIMITS,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [proc.stdout!, proc.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        appendFileSync(log, chunk);
        for (const line of chunk.toString().split('\n')) if (line.trim()) console.log(`[${name}] ${line}`);
      });
    }
    const url = `http://127.0.0.1:${port}`;
    const node: Node = { name, port, url, id: '', proc, log };
    this.nodes.push(node);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}):\n${tail(log)}`);
      }
      try {
        const res = await fetch(`${url}/healthz`);
        if (res.ok) {
          const health = (await res.json()) as Health;
          if (health.redis !== 'ok' || !health.node) {
            throw new Error(`${name} runs without Redis: ${JSON.stringify(health)}`);
          }
          node.id = health.node;
          return;
        }
      } catch (e) {
        if (e instanceof Error && e.message.includes('without Redis')) throw e;
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} on ${port} did not answer /healthz:\n${tail(log)}`);
  }

  private async startNginx(port: number): Promise<void> {
    this.port = port;
    let conf = readFileSync(path.join(root, 'deploy', 'nginx.conf'), 'utf8');
    conf = substitute(conf, 'server 127.0.0.1:3001;', `server 127.0.0.1:${this.nodes[0].port};`);
    conf = substitute(conf, 'server 127.0.0.1:3002;', `server 127.0.0.1:${this.nodes[1].port};`);
    conf = substitute(conf, 'listen 8080;', `listen 127.0.0.1:${port};`);
    const prefix = this.nginxPrefix;
    mkdirSync(path.join(prefix, 'logs'), { recursive: true });
    mkdirSync(path.join(prefix, 'temp'), { recursive: true });
    // Started as root, nginx's workers run as `nobody`: they must reach the
    // temp directories it creates (and chowns) under the prefix.
    for (const d of [this.dir, prefix, path.join(prefix, 'temp')]) chmodSync(d, 0o755);
    const confPath = path.join(prefix, 'nginx.conf');
    writeFileSync(confPath, conf);
    const bin = nginxBinary();
    const check = spawnSync(bin, ['-p', prefix, '-c', confPath, '-t'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t failed: ${check.error ?? ''}${check.stderr}`);
    const proc = spawn(bin, ['-p', prefix, '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
    this.nginx = proc;
    const errorLog = path.join(prefix, 'logs', 'error.log');
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`nginx exited:\n${tail(errorLog)}`);
      try {
        const res = await fetch(`${this.baseURL}/healthz`);
        if (res.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nginx on ${port} did not proxy /healthz:\n${tail(errorLog)}`);
  }

  /** The last lines of every log, for a failed test's report. */
  logs(): string {
    const parts = this.nodes.map((n) => `--- ${n.name} (${n.url}, id ${n.id}) ---\n${tail(n.log)}`);
    parts.push(`--- nginx error.log ---\n${tail(path.join(this.nginxPrefix, 'logs', 'error.log'))}`);
    parts.push(`--- nginx access.log ---\n${tail(this.accessLog, 60)}`);
    return parts.join('\n');
  }

  /** Stops nginx and both nodes, drops the database, deletes this run's Redis keys. */
  async stop(): Promise<void> {
    const errors: string[] = [];
    const nginx = this.nginx;
    this.nginx = null;
    if (nginx) {
      // SIGTERM: fast shutdown (SIGQUIT would wait for open WebSockets).
      nginx.kill('SIGTERM');
      if (!(await waitForExit(nginx, 5_000))) nginx.kill('SIGKILL');
    }
    for (const node of [...this.nodes].reverse()) {
      node.proc.kill('SIGTERM');
      if (!(await waitForExit(node.proc, 10_000))) {
        errors.push(`${node.name} ignored SIGTERM for 10 s`);
        node.proc.kill('SIGKILL');
        await waitForExit(node.proc, 5_000);
      }
    }
    if (this.databaseCreated) {
      try {
        this.psql(`DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`);
        this.databaseCreated = false;
      } catch (e) {
        errors.push(String(e));
      }
    }
    this.deleteRedisKeys();
    process.removeListener('exit', this.killOnExit);
    if (this.dir && !process.env.E2E_KEEP_CLUSTER_DIR) rmSync(this.dir, { recursive: true, force: true });
    else if (this.dir) console.log(`cluster logs kept in ${this.dir}`);
    if (errors.length) console.warn(`cluster clean-up: ${errors.join('; ')}`);
  }

  private deleteRedisKeys(): void {
    const cli = (...args: string[]) => spawnSync('redis-cli', ['-u', this.redisUrl, ...args], { encoding: 'utf8' });
    const scan = cli('--scan', '--pattern', `${this.redisPrefix}*`);
    if (scan.status !== 0) return; // no redis-cli: the keys expire or stay, harmless
    const keys = scan.stdout.split('\n').filter(Boolean);
    for (let i = 0; i < keys.length; i += 200) cli('DEL', ...keys.slice(i, i + 200));
  }

  /** Should the runner die without `stop()`: no process outlives it. */
  private readonly killOnExit = () => {
    this.nginx?.kill('SIGKILL');
    for (const n of this.nodes) n.proc.kill('SIGKILL');
    if (this.databaseCreated) spawnSync('psql', [this.adminUrl, '-qAtc', `DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`]);
  };
}
