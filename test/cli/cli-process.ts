// Runs the CLI from source (node --import tsx src/cli/main.ts) as a child
// process, so tests never depend on a stale dist/. Every child is killed when
// its test ends, whatever happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRecord, SegmentRecord } from '../../src/registry/run-records.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(REPO_ROOT, 'src', 'cli', 'main.ts');

/** The test's environment without any abrcast settings, with HOME in `home` so ~/.abrcast is never touched. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  for (const name of ['ABRCAST_PORT', 'ABRCAST_DATA_DIR', 'ABRCAST_STORE', 'DATABASE_URL', 'KUBO_URL', 'ABRCAST_REPLICAS']) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

export async function makeTempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliResult extends Exit {
  stdout: string;
  stderr: string;
}

/** A running CLI: its output so far, each stdout line as it comes, and its exit. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';
  readonly #lineWaiters = new Set<() => void>();
  readonly lines: string[] = [];

  /** Runs `script` (default the CLI) with `args`. */
  constructor(args: string[], env: NodeJS.ProcessEnv, script = MAIN) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.#lineWaiters) wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const wake of this.#lineWaiters) wake();
    });
  }

  /** Resolves with the first stdout line (parsed as JSON) that `match` accepts. */
  async waitForJson<T = Record<string, unknown>>(match: (event: T) => boolean, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let checked = 0;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      for (; checked < this.lines.length; checked++) {
        const event = JSON.parse(this.lines[checked]) as T;
        if (match(event)) return event;
      }
      if (exited) throw new Error(`CLI exited before the awaited line; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No matching line within ${timeoutMs} ms; stdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#lineWaiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#lineWaiters.add(wake);
      });
    }
  }

  /** Waits for the exit; kills the child (SIGKILL) when it takes longer than `timeoutMs`. */
  async result(timeoutMs: number): Promise<CliResult> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      const exit = await this.exited;
      return { ...exit, stdout: this.stdout, stderr: this.stderr };
    } finally {
      clearTimeout(timer);
    }
  }

  /** For after hooks: makes sure nothing is left running. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Runs the CLI to its end (killed after `timeoutMs`). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  const cli = new CliProcess(args, env);
  try {
    return await cli.result(timeoutMs);
  } finally {
    await cli.stop();
  }
}

/** Lines of a playlist that are URIs (not tags or blanks). */
export function playlistUris(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0 && !line.startsWith('#'));
}

/** A CLI run's JSON lines, and the run and segments its start event names, read back from the embedded registry. */
export async function readJsonRun<E extends { event?: unknown; runId?: unknown }>(
  stdout: string,
  dataDir: string,
): Promise<{ events: E[]; run?: RunRecord; segments: SegmentRecord[] }> {
  const events = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as E);
  const start = events.find((event) => event.event === 'start');
  if (!start) return { events, segments: [] };
  const registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
  try {
    return { events, run: await registry.getRun(String(start.runId)), segments: await registry.listSegments(String(start.runId)) };
  } finally {
    await registry.close();
  }
}
