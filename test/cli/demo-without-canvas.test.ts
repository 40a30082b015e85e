// `npm install abrcast --omit=optional` leaves out @napi-rs/canvas: the library
// and every other command work, and `abrcast demo` says how to get it, before it
// opens any store or starts a run.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliEnv, makeTempDir, runCli, REPO_ROOT } from './cli-process.js';

const HIDE = pathToFileURL(join(REPO_ROOT, 'test', 'support', 'hide-packages.mjs')).href;

describe('abrcast demo without @napi-rs/canvas', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;

  before(async () => {
    temp = await makeTempDir('abrcast-cli-nocanvas-');
  });

  after(async () => {
    await temp?.remove();
  });

  const env = () => cliEnv(temp.path, { NODE_OPTIONS: `--import ${HIDE}`, ABRCAST_TEST_HIDE_PACKAGES: '@napi-rs/canvas' });

  test('exits 2 with the cause and the npm command, and starts no run', async () => {
    const dataDir = join(temp.path, 'data');
    const result = await runCli(['demo', '--duration', '1', '--port', '0', '--data-dir', dataDir], env());
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /abrcast demo needs the optional package @napi-rs\/canvas, which could not be loaded: Cannot find package '@napi-rs\/canvas-not-installed'/);
    assert.match(result.stderr, /npm install @napi-rs\/canvas/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace without --verbose');
    assert.equal(existsSync(dataDir), false, 'no store or registry was opened');
  });

  test('the other commands still run', async () => {
    const result = await runCli(['runs', '--data-dir', join(temp.path, 'data2')], env());
    assert.equal(result.code, 0, result.stderr);
  });
});
