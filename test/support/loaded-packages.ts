// Which npm packages a piece of code loads, in a fresh Node process: ES modules
// seen by a load hook (import graphs, static and dynamic) plus CommonJS modules in
// require.cache (CJS dependencies of CJS packages do not pass the ESM hooks).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./loaded-packages-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The package name of a module URL or path inside node_modules, else undefined. */
export function packageOf(urlOrPath: string): string | undefined {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(urlOrPath);
  return match?.[1];
}

/**
 * Runs `body` (the body of an async function; `src` is the repo's src/ as a file
 * URL string) in a child process and returns the packages loaded by then, sorted.
 */
export async function loadedPackages(body: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, body], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`loaded-packages child failed (${code}): ${stderr}`);
  const urls = JSON.parse(stdout) as string[];
  return [...new Set(urls.map(packageOf).filter((name): name is string => name !== undefined))].sort();
}
