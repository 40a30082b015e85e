// Debian's HAProxy in front of `abrcast serve` instances, for tests and the
// scale bench: deploy/haproxy.cfg (the README's config: timeouts, retries,
// health checks, TLS with ALPN h2) with a free loopback port, plain HTTP or the
// config's TLS bind with a given certificate, and the given servers, plus an admin
// socket to see and change the servers' state. Killed when the test process
// goes away.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const CONFIG_TEMPLATE = fileURLToPath(new URL('../../deploy/haproxy.cfg', import.meta.url));
const BACKEND = 'abrcast_serve';
const READY_TIMEOUT_MS = 30_000;

export interface HaproxyServer {
  /** Name in HAProxy's stats (serve1, serve2, ...). */
  name: string;
  /** host:port of an `abrcast serve` instance. */
  address: string;
}

export interface HaproxyOptions {
  /** Terminate TLS as deploy/haproxy.cfg does (ALPN h2,http/1.1) with this PEM file (certificate, then key); default plain HTTP. */
  tlsPem?: string;
}

export interface HaproxyHandle {
  /** http://127.0.0.1:PORT (https:// with TLS), the one address viewers use. */
  url: string;
  /** The master process (its worker is its child). */
  pid: number;
  servers: HaproxyServer[];
  /** The servers' state from the health checks: UP, DOWN, MAINT (status column of `show stat`). */
  serverStates(): Promise<Record<string, string>>;
  /** Resolves once every named server (default: all) is in `state` (UP by default). */
  waitForServers(state?: string, names?: string[], timeoutMs?: number): Promise<void>;
  /** Takes a server out of rotation (MAINT) or puts it back, through the admin socket. */
  setEnabled(name: string, enabled: boolean): Promise<void>;
  /** A command on the admin socket (`show stat`, `disable server ...`), its answer. */
  admin(command: string): Promise<string>;
  stop(): Promise<void>;
}

/** The `haproxy` binary, or a clear error saying how to get it. */
export function findHaproxy(): string {
  const found = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error('haproxy not found: install it (`apt-get install haproxy`, or `bash scripts/bootstrap.sh --test`)');
  }
  return 'haproxy';
}

/**
 * deploy/haproxy.cfg with this bind port, these servers, and an admin socket; with `tlsPem`
 * the config's own bind options (ssl, alpn) with that certificate, else plain HTTP.
 */
export function renderHaproxyConfig(port: number, servers: HaproxyServer[], adminSocket: string, tlsPem?: string): string {
  const lines = readFileSync(CONFIG_TEMPLATE, 'utf8').split('\n');
  const out: string[] = [];
  for (const line of lines) {
    if (/^\s+server\s/.test(line)) continue;
    if (/^\s+bind\s/.test(line)) {
      const [, , ...options] = line.trim().split(/\s+/);
      const crt = options.indexOf('crt');
      if (tlsPem !== undefined && (!options.includes('ssl') || crt < 0)) throw new Error(`deploy/haproxy.cfg: no TLS bind to use (${line.trim()})`);
      if (tlsPem !== undefined) options[crt + 1] = tlsPem;
      out.push(`    bind 127.0.0.1:${port}${tlsPem !== undefined ? ` ${options.join(' ')}` : ''}`);
      continue;
    }
    out.push(line);
    if (/^global\b/.test(line)) out.push(`    stats socket ${adminSocket} mode 600 level admin`);
  }
  while (out.at(-1) === '') out.pop();
  for (const server of servers) out.push(`    server ${server.name} ${server.address} check`);
  return `${out.join('\n')}\n`;
}

const live = new Set<ChildProcess>();
let hooked = false;

export async function startHaproxy(addresses: string[], options: HaproxyOptions = {}): Promise<HaproxyHandle> {
  const bin = findHaproxy();
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'abrcast-haproxy-'));
  const port = await freePort();
  const servers = addresses.map((address, i) => ({ name: `serve${i + 1}`, address }));
  const socket = join(dir, 'admin.sock');
  const configPath = join(dir, 'haproxy.cfg');
  writeFileSync(configPath, renderHaproxyConfig(port, servers, socket, options.tlsPem));
  // -db: stay in the foreground (no daemon to lose track of); -W: master-worker, so SIGTERM stops it cleanly.
  const child = spawn(bin, ['-W', '-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const admin = (command: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const connection = connect(socket);
      let answer = '';
      connection.setEncoding('utf8');
      connection.on('data', (chunk: string) => (answer += chunk));
      connection.once('error', reject);
      connection.once('end', () => resolve(answer));
      connection.write(`${command}\n`);
    });

  const serverStates = async (): Promise<Record<string, string>> => {
    const csv = await admin('show stat');
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const columns = header.split(',');
    const [px, sv, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name));
    const states: Record<string, string> = {};
    for (const row of rows) {
      const fields = row.split(',');
      if (fields[px] === BACKEND && servers.some((server) => server.name === fields[sv])) states[fields[sv]] = fields[status].split(' ')[0];
    }
    return states;
  };

  const waitForServers = async (state = 'UP', names = servers.map((server) => server.name), timeoutMs = READY_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, string> = {};
    while (Date.now() < deadline) {
      try {
        last = await serverStates();
        if (names.every((name) => last[name] === state)) return;
      } catch {
        // the socket is not there yet
      }
      if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`haproxy servers ${names.join(', ')} not ${state} within ${timeoutMs} ms: ${JSON.stringify(last)}\n${output}`);
  };

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The frontend is up once the admin socket answers (both are bound at start).
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}) at start:\n${output}`);
      try {
        await serverStates();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`haproxy admin socket did not answer: ${(error as Error).message}\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `${options.tlsPem !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`,
    pid: child.pid!,
    servers,
    serverStates,
    waitForServers,
    async setEnabled(name, enabled) {
      const answer = await admin(`${enabled ? 'enable' : 'disable'} server ${BACKEND}/${name}`);
      if (answer.trim() !== '') throw new Error(`haproxy: ${answer.trim()}`);
    },
    admin,
    stop,
  };
}
