// A throwaway PostgreSQL 15 cluster for tests: its own temp directory, a free
// loopback port, trust auth, fsync off. stop() (or process exit) removes it.
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.js';

const execFileAsync = promisify(execFile);

const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
const SUPERUSER = 'abrcast';
const DATABASE = 'abrcast';
const START_ATTEMPTS = 3;

export interface PostgresInstance {
  /** The temp directory holding the cluster (data, socket, server.log); gone after stop(). */
  dir: string;
  port: number;
  /** postgres://abrcast@127.0.0.1:PORT/abrcast, a database that exists and is empty. */
  url: string;
  /** Creates another empty database in the same cluster and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (an outage: `pg_ctl stop -m immediate`), keeping its data for startServer(). */
  stopServer(): Promise<void>;
  /** Starts a server stopped by stopServer() again on the same port and data. */
  startServer(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

interface Cluster {
  dir: string;
  dataDir: string;
  stopped: boolean;
}

const liveClusters = new Set<Cluster>();
let exitHooksInstalled = false;

function binary(name: string): string {
  const path = join(PG_BIN_DIR, name);
  return existsSync(path) ? path : name; // elsewhere, rely on PATH
}

// initdb and postgres refuse to run as root; as root, run them as the
// `postgres` system user that Debian's package creates.
const runningAsRoot = process.getuid?.() === 0;

function command(name: string, args: string[]): [string, string[]] {
  return runningAsRoot ? ['runuser', ['-u', 'postgres', '--', binary(name), ...args]] : [binary(name), args];
}

async function runPg(cluster: Cluster, name: string, args: string[]): Promise<void> {
  const [file, argv] = command(name, args);
  try {
    await execFileAsync(file, argv, { cwd: cluster.dir, timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const logPath = join(cluster.dir, 'server.log');
    const log = existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-2000) : '';
    throw new Error(`${name} ${args.join(' ')} failed: ${stderr.trim()}\n${log}`, { cause: error });
  }
}

function stopSync(cluster: Cluster): void {
  if (cluster.stopped) return;
  cluster.stopped = true;
  liveClusters.delete(cluster);
  try {
    const [file, argv] = command('pg_ctl', ['stop', '-D', cluster.dataDir, '-m', 'immediate', '-w']);
    execFileSync(file, argv, { cwd: cluster.dir, stdio: 'ignore', timeout: 30_000 });
  } catch {
    // already stopped, or never started
  }
  rmSync(cluster.dir, { recursive: true, force: true });
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const stopAll = () => {
    for (const cluster of [...liveClusters]) stopSync(cluster);
  };
  process.on('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      stopAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal); // die of the same signal, as without this hook
    };
    process.on(signal, onSignal);
  }
}


function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function adminQuery(port: number, text: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function startPostgres(): Promise<PostgresInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-pg-'));
  const cluster: Cluster = { dir, dataDir: join(dir, 'data'), stopped: false };
  const socketDir = join(dir, 'sock');
  mkdirSync(socketDir);
  installExitHooks();
  liveClusters.add(cluster);

  try {
    if (runningAsRoot) {
      const { uid, gid } = postgresIds();
      chownSync(dir, uid, gid);
      chownSync(socketDir, uid, gid);
    }
    await runPg(cluster, 'initdb', [
      '-D', cluster.dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync',
    ]);

    // A free port can be taken between probing and binding; try a fresh one then.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(
        join(cluster.dataDir, 'postgresql.conf'),
        [
          '',
          "listen_addresses = '127.0.0.1'",
          `port = ${port}`,
          `unix_socket_directories = '${socketDir}'`,
          'fsync = off',
          'synchronous_commit = off',
          'full_page_writes = off',
          'shared_buffers = 32MB',
          'max_connections = 40',
          '',
        ].join('\n'),
      );
      try {
        await runPg(cluster, 'pg_ctl', ['start', '-D', cluster.dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '30']);
        break;
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw error;
      }
    }

    await adminQuery(port, `CREATE DATABASE ${DATABASE}`);
    const urlFor = (database: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
    return {
      dir,
      port,
      url: urlFor(DATABASE),
      async createDatabase(name: string) {
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Unsafe database name ${JSON.stringify(name)}`);
        await adminQuery(port, `CREATE DATABASE ${name}`);
        return urlFor(name);
      },
      async stopServer() {
        await runPg(cluster, 'pg_ctl', ['stop', '-D', cluster.dataDir, '-m', 'immediate', '-w']);
      },
      async startServer() {
        await runPg(cluster, 'pg_ctl', ['start', '-D', cluster.dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '30']);
      },
      async stop() {
        stopSync(cluster);
      },
    };
  } catch (error) {
    stopSync(cluster);
    throw error;
  }
}
