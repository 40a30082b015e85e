#!/usr/bin/env node
// Time and RSS of `import('abrcast')` in a fresh process, for the lazy-loading
// figures in the README: `npm run build:ts && node scripts/measure-import.mjs [runs]`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/index.js', import.meta.url).href;
const child = `
  const t0 = performance.now();
  const m = await import(${JSON.stringify(entry)});
  const ms = performance.now() - t0;
  if (typeof m.LadderEncoder !== 'function') throw new Error('no LadderEncoder');
  console.log(JSON.stringify({ importMs: Math.round(ms), rssMB: +(process.memoryUsage().rss / 1048576).toFixed(1) }));
`;
const runs = Number(process.argv[2] ?? 5);
for (let i = 0; i < runs; i++) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', child], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  process.stdout.write(result.stdout);
}
