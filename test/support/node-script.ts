// Runs an ES module script in a child Node (through tsx, from the repository root, so it imports
// './src/index.ts'), optionally under a launcher such as `taskset -c 0,1` or with LD_PRELOAD.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface NodeScriptOptions {
  /** A command the child runs under, e.g. ['taskset', '-c', '0,1']. */
  launcher?: string[];
  nodeArgs?: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** SIGKILL after this long (default 60 s). */
  timeoutMs?: number;
}

export function runNodeScript(script: string, options: NodeScriptOptions = {}): Promise<NodeScriptResult> {
  const [command, ...args] = [...(options.launcher ?? []), process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', '--input-type=module', '-e', script];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { cwd: repoRoot, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last line of stdout, parsed: what the child script printed with console.log(JSON.stringify(...)). */
export function lastJsonLine<T>(result: NodeScriptResult): T {
  const line = result.stdout.trim().split('\n').at(-1);
  if (!line) throw new Error(`The child printed nothing (exit ${result.code ?? result.signal}):\n${result.stderr}`);
  return JSON.parse(line) as T;
}
