#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (through tsx), so the
// pass/fail counts are printed by node:test. Extra arguments narrow the set:
//   npm test -- test/store        (a folder)     npm test -- test/hls/media-playlist.test.ts
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function collect(path, out) {
  const stat = statSync(path);
  if (stat.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return out;
  }
  for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((root) => collect(resolve(root), []));
if (files.length === 0) {
  console.error(`No *.test.ts files under ${roots.join(', ') || 'test'}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, ABRCAST_TEST: '1' } },
);
process.exit(result.status ?? 1);
