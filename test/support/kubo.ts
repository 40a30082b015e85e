// A throwaway Kubo node for tests: its own temp repo, loopback-only ports, no
// network, killed when the test process goes away (even on SIGKILL, through a
// small watchdog), so no daemon outlives the run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

export interface KuboHandle {
  /** RPC base, e.g. http://127.0.0.1:41234 (kubo-rpc-client adds /api/v0). */
  readonly apiUrl: string;
  /** Path gateway base, e.g. http://127.0.0.1:41235 (serves /ipfs/<cid>). */
  readonly gatewayUrl: string;
  /** The libp2p address peers dial, ending in /p2p/<peerId>; only with `swarm: true`. */
  readonly swarmAddress?: string;
  /** The temp IPFS_PATH. */
  readonly repoPath: string;
  /** The Kubo binary in use. */
  readonly bin: string;
  /** Runs `ipfs <args>` against this repo (through the daemon when it runs) and returns stdout. */
  cli(args: string[], input?: Uint8Array): string;
  /** Starts the daemon again on the same repo and ports; no-op when it runs. */
  startDaemon(): Promise<void>;
  /** Stops the daemon (SIGTERM, SIGKILL after 10 s; pass 'SIGKILL' to crash it); the repo stays. */
  stopDaemon(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the daemon and removes the repo. */
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const GRACEFUL_STOP_MS = 10_000;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** ABRCAST_IPFS_BIN, else <repo>/.tools/bin/ipfs, else `ipfs` on PATH. */
export function findKuboBinary(): string {
  const fromEnv = process.env.ABRCAST_IPFS_BIN;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`ABRCAST_IPFS_BIN=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const local = join(repoRoot, '.tools', 'bin', 'ipfs');
  if (isExecutable(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'ipfs'))) return join(dir, 'ipfs');
  }
  throw new Error(
    'Kubo (ipfs) not found: set ABRCAST_IPFS_BIN, or run `bash scripts/install-kubo.sh` to install it into .tools/bin/ipfs',
  );
}


// Everything still running, so an exiting process can clean up synchronously.
const liveDaemons = new Set<ChildProcess>();
const liveWatchdogs = new Set<ChildProcess>();
const liveRepos = new Set<string>();
let exitHooksInstalled = false;

function killEverythingNow(): void {
  for (const child of liveDaemons) child.kill('SIGKILL');
  for (const watchdog of liveWatchdogs) watchdog.kill('SIGKILL');
  for (const repo of liveRepos) rmSync(repo, { recursive: true, force: true });
  liveDaemons.clear();
  liveWatchdogs.clear();
  liveRepos.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', killEverythingNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killEverythingNow();
      // Give the signal its default effect again unless someone else handles it.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** Kills `daemonPid` and removes its repo once this process is gone, whatever the way it died. */
function spawnWatchdog(daemonPid: number, repoPath: string): ChildProcess {
  const script = 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -9 "$1" 2>/dev/null; sleep 1; rm -rf "$2"';
  const args = ['-c', script, String(process.pid), String(daemonPid), repoPath];
  const watchdog = spawn('sh', args, { stdio: 'ignore' });
  watchdog.unref();
  liveWatchdogs.add(watchdog);
  watchdog.once('exit', () => liveWatchdogs.delete(watchdog));
  return watchdog;
}

export interface StartKuboOptions {
  /** Run online with a libp2p listener on loopback (no bootstrap, no DHT, no mDNS), for bitswap tests. Default: offline. */
  swarm?: boolean;
}

function configureRepo(repoPath: string, apiPort: number, gatewayPort: number, swarmPort?: number): void {
  const configPath = join(repoPath, 'config');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.Addresses.API = `/ip4/127.0.0.1/tcp/${apiPort}`;
  config.Addresses.Gateway = `/ip4/127.0.0.1/tcp/${gatewayPort}`;
  config.Addresses.Swarm = swarmPort === undefined ? [] : [`/ip4/127.0.0.1/tcp/${swarmPort}`];
  // Only peers a test connects by hand: no DHT lookups that wait for a network there is not.
  if (swarmPort !== undefined) config.Routing = { ...config.Routing, Type: 'none' };
  config.Bootstrap = [];
  config.Discovery = { ...config.Discovery, MDNS: { Enabled: false } };
  config.AutoConf = { ...config.AutoConf, Enabled: false };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
}

async function waitForRpc(apiUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Kubo daemon exited (${child.exitCode ?? child.signalCode}) before its RPC answered:\n${output()}`);
    }
    try {
      const response = await fetch(`${apiUrl}/api/v0/version`, { method: 'POST', signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Kubo RPC at ${apiUrl} did not answer within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

export async function startKubo(options: StartKuboOptions = {}): Promise<KuboHandle> {
  const bin = findKuboBinary();
  installExitHooks();
  const repoPath = mkdtempSync(join(tmpdir(), 'abrcast-kubo-'));
  liveRepos.add(repoPath);
  const env = { ...process.env, IPFS_PATH: repoPath, IPFS_TELEMETRY: 'off' };

  const cli = (args: string[], input?: Uint8Array): string => {
    const result = spawnSync(bin, args, { env, input, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    if (result.status !== 0) {
      throw new Error(`ipfs ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr?.toString() ?? result.error}`);
    }
    return result.stdout.toString();
  };

  let daemon: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let apiUrl = '';
  let gatewayUrl = '';
  let swarmAddress: string | undefined;

  const stopDaemon = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const child = daemon;
    daemon = undefined;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), GRACEFUL_STOP_MS);
      await exited;
      clearTimeout(timer);
    }
    liveDaemons.delete(child);
    watchdog?.kill('SIGKILL');
    watchdog = undefined;
  };

  const startDaemon = async (): Promise<void> => {
    if (daemon) return;
    let output = '';
    const child = spawn(bin, options.swarm ? ['daemon'] : ['daemon', '--offline'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // A forgotten stop() must not keep the test process alive; the exit hooks kill it.
    child.unref();
    (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
    (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    liveDaemons.add(child);
    child.once('exit', () => liveDaemons.delete(child));
    daemon = child;
    if (child.pid !== undefined) watchdog = spawnWatchdog(child.pid, repoPath);
    try {
      await waitForRpc(apiUrl, child, () => output);
    } catch (error) {
      await stopDaemon('SIGKILL');
      throw error;
    }
  };

  const stop = async (): Promise<void> => {
    await stopDaemon();
    rmSync(repoPath, { recursive: true, force: true });
    liveRepos.delete(repoPath);
  };

  try {
    cli(['init', '--profile=test', '--empty-repo']);
    const apiPort = await freePort();
    let gatewayPort = await freePort();
    while (gatewayPort === apiPort) gatewayPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    let swarmPort: number | undefined;
    if (options.swarm) {
      do swarmPort = await freePort();
      while (swarmPort === apiPort || swarmPort === gatewayPort);
    }
    configureRepo(repoPath, apiPort, gatewayPort, swarmPort);
    if (swarmPort !== undefined) swarmAddress = `/ip4/127.0.0.1/tcp/${swarmPort}/p2p/${cli(['config', 'Identity.PeerID']).trim()}`;
    await startDaemon();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    get apiUrl() {
      return apiUrl;
    },
    get gatewayUrl() {
      return gatewayUrl;
    },
    swarmAddress,
    repoPath,
    bin,
    cli,
    startDaemon,
    stopDaemon,
    stop,
  };
}
