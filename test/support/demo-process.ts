// `abrcast demo` as a child process on a free port and a throwaway data dir, for
// the Chromium latency test and `--case latency`: its start event (watch and
// master URLs), the moment its master first answers, and a clean stop (SIGINT:
// final playlists, run ended). Runs the compiled CLI (bin/abrcast.js) when dist/
// is newer than every source file, else the sources through tsx.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** How the CLI is started: the build when it is current, else the sources (tsx transpiles on the fly). */
export function demoEntry(): { kind: 'dist' | 'src'; args: string[] } {
  const built = join(ROOT, 'dist', 'cli', 'main.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(ROOT, 'src')) && newestMtime(join(ROOT, 'dist')) >= newestMtime(join(ROOT, 'src'))) {
    return { kind: 'dist', args: [join(ROOT, 'bin', 'abrcast.js')] };
  }
  return { kind: 'src', args: ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')] };
}

export interface DemoStart {
  runId: string;
  masterUrl: string;
  watchUrl: string;
  serverUrl: string;
  [key: string]: unknown;
}

export interface DemoProcess {
  readonly child: ChildProcess;
  /** performance.now() when the process was spawned. */
  readonly launchedAt: number;
  /** The start event; rejects when the demo exits first. */
  readonly started: Promise<DemoStart>;
  /** Every --json event so far. */
  readonly events: Record<string, unknown>[];
  stderr(): string;
  /**
   * Polls the master until it answers 200 with a variant (the server itself holds an early
   * request up to 5 s); resolves with performance.now() at that answer.
   */
  firstMaster(timeoutMs?: number): Promise<number>;
  /** SIGINT (the run ends cleanly), then the exit code; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** GET `url`: status and body; over https with `ca` as the trusted CA (fetch() takes no CA). */
export function getText(url: string, ca?: string): Promise<{ status: number; text: string }> {
  if (!url.startsWith('https:')) return fetch(url).then(async (response) => ({ status: response.status, text: await response.text() }));
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.once('end', () => resolve({ status: response.statusCode!, text }));
      response.once('error', reject);
    }).once('error', reject);
  });
}

export interface DemoOptions {
  env?: NodeJS.ProcessEnv;
  /** The CA that signed the demo's --tls-cert, for firstMaster()'s requests. */
  ca?: string;
}

/** `abrcast demo --json --port 0 --data-dir <dataDir> ...args` with HOME under the data dir. */
export function launchDemo(args: string[], dataDir: string, { env = process.env, ca }: DemoOptions = {}): DemoProcess {
  const entry = demoEntry();
  const childEnv: NodeJS.ProcessEnv = { ...env, HOME: dataDir };
  for (const name of ['ABRCAST_PORT', 'ABRCAST_TLS_CERT', 'ABRCAST_TLS_KEY', 'ABRCAST_DATA_DIR', 'ABRCAST_STORE', 'DATABASE_URL', 'KUBO_URL']) delete childEnv[name];
  const launchedAt = performance.now();
  const child = spawn(process.execPath, [...entry.args, 'demo', '--json', '--port', '0', '--data-dir', join(dataDir, 'data'), ...args], {
    cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const started = new Promise<DemoStart>((resolve, reject) => {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.event === 'start') resolve(event as DemoStart);
      }
    });
    void exited.then((code) => reject(new Error(`abrcast demo exited (${code}) before its start event; stderr: ${stderr}`)));
  });
  started.catch(() => undefined);
  return {
    child,
    launchedAt,
    started,
    events,
    stderr: () => stderr,
    async firstMaster(timeoutMs = 60_000) {
      const { masterUrl } = await started;
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const response = await getText(masterUrl, ca).catch(() => undefined);
        const text = response?.text ?? '';
        if (response?.status === 200 && /#EXT-X-STREAM-INF/.test(text)) return performance.now();
        if (performance.now() > deadline) throw new Error(`${masterUrl} did not answer with variants within ${timeoutMs} ms (last: ${response?.status})`);
        if (child.exitCode !== null) throw new Error(`abrcast demo exited (${child.exitCode}) before its master answered; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop(timeoutMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
