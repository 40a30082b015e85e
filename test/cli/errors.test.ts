// What a user sees when something is wrong: one line with the cause, one with
// the fix, the documented exit code, and no stack trace unless --verbose.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, makeTempDir, runCli, type CliResult } from './cli-process.js';

function assertCauseAndFix(result: CliResult, exitCode: number, cause: RegExp, fix: RegExp): void {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, `exactly cause and fix: ${result.stderr}`);
  assert.match(lines[0], /^error: /);
  assert.match(lines[0], cause);
  assert.match(lines[1], /^fix: /);
  assert.match(lines[1], fix);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

describe('abrcast errors', () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;

  before(async () => {
    temp = await makeTempDir('abrcast-cli-errors-');
    env = cliEnv(temp.path);
    dataDir = join(temp.path, 'data');
  });

  after(async () => {
    await temp?.remove();
  });

  const badFlags: Array<[string[], RegExp]> = [
    [['--size', '12x'], /^error: Expected WIDTHxHEIGHT .* for --size but received "12x"$/],
    [['--fps', '0'], /^error: Expected number between 1 and 120 for --fps but received 0$/],
    [['--bogus'], /^error: unknown option '--bogus'$/],
  ];
  for (const [flags, cause] of badFlags) {
    test(`demo ${flags.join(' ')}: usage error, exit 2`, async () => {
      const result = await runCli(['demo', ...flags, '--data-dir', dataDir], env, 30_000);
      assertCauseAndFix(result, 2, cause, /abrcast demo --help/);
      assert.equal(result.stdout, '');
    });
  }

  test('a password in a bad --database-url is not echoed', async () => {
    const result = await runCli(['runs', '--database-url', 'mysql://me:secret@host/db'], env, 30_000);
    assertCauseAndFix(result, 2, /for --database-url/, /abrcast runs --help/);
    assert.doesNotMatch(result.stderr, /secret/);
  });

  test('unreachable Kubo: cause and fix, exit 3', async () => {
    const result = await runCli(
      ['demo', '--store', 'kubo', '--kubo-url', 'http://127.0.0.1:1', '--port', '0', '--data-dir', dataDir],
      env,
      30_000,
    );
    assertCauseAndFix(result, 3, /^error: Kubo RPC not reachable at http:\/\/127\.0\.0\.1:1/, /ipfs daemon.*--store embedded/);
  });

  test('several Kubo peers, too few answering for --replicas: every unreachable peer is named, exit 3', async () => {
    const result = await runCli(
      ['demo', '--store', 'kubo', '--kubo-url', 'http://127.0.0.1:1', '--kubo-url', 'http://127.0.0.1:2', '--replicas', '2', '--port', '0', '--data-dir', dataDir],
      env,
      30_000,
    );
    assertCauseAndFix(result, 3, /^error: Kubo RPC not reachable at http:\/\/127\.0\.0\.1:1, http:\/\/127\.0\.0\.1:2: 0 of 2 Kubo peers answer, 2 needed/, /--kubo-url/);
  });

  test('--replicas above the number of Kubo peers: usage error naming the value, exit 2', async () => {
    const result = await runCli(['demo', '--store', 'kubo', '--kubo-url', 'http://127.0.0.1:1,http://127.0.0.1:2', '--replicas', '3', '--data-dir', dataDir], env, 30_000);
    assertCauseAndFix(result, 2, /^error: Expected integer from 1 to 2 \(the number of --kubo-url peers\) for --replicas but received 3$/, /--kubo-url for each peer/);
  });

  test('unreachable PostgreSQL: cause and fix, exit 3', async () => {
    const result = await runCli(
      ['demo', '--database-url', 'postgres://x@127.0.0.1:1/x', '--port', '0', '--data-dir', dataDir],
      env,
      30_000,
    );
    assertCauseAndFix(result, 3, /^error: PostgreSQL not reachable at postgres:\/\/x@127\.0\.0\.1:1\/x/, /--database-url/);
  });

  test('--verbose adds the stack trace', async () => {
    const result = await runCli(['runs', '--verbose', '--database-url', 'postgres://x@127.0.0.1:1/x'], env, 30_000);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /^error: PostgreSQL not reachable/);
    assert.match(result.stderr, /^\s+at /m);
  });

  test('--json also reports the error as a JSON line on stdout', async () => {
    const result = await runCli(['runs', '--json', '--database-url', 'postgres://x@127.0.0.1:1/x'], env, 30_000);
    assert.equal(result.code, 3);
    const event = JSON.parse(result.stdout.trim()) as Record<string, unknown>;
    assert.equal(event.event, 'error');
    assert.equal(event.exitCode, 3);
    assert.match(String(event.message), /PostgreSQL not reachable/);
    assert.match(String(event.fix), /--database-url/);
  });

  test('environment applies when no flag is given, and a flag wins over it', async () => {
    const bad = await runCli(['runs', '--data-dir', dataDir], cliEnv(temp.path, { ABRCAST_STORE: 'floppy' }), 30_000);
    assertCauseAndFix(bad, 2, /value 'floppy' from env 'ABRCAST_STORE' is invalid\. Allowed choices are embedded, kubo\.$/, /abrcast runs --help/);
    const viaEnvDb = await runCli(['runs', '--data-dir', dataDir], cliEnv(temp.path, { DATABASE_URL: 'postgres://x@127.0.0.1:1/x' }), 30_000);
    assert.equal(viaEnvDb.code, 3, viaEnvDb.stderr);
    assert.match(viaEnvDb.stderr, /^error: PostgreSQL not reachable at postgres:\/\/x@127\.0\.0\.1:1\/x/);
    // --store wins over the bad ABRCAST_STORE; ABRCAST_DATA_DIR (no --data-dir) picks where the registry is made.
    const overridden = await runCli(['runs', '--store', 'embedded'], cliEnv(temp.path, { ABRCAST_STORE: 'floppy', ABRCAST_DATA_DIR: dataDir }), 60_000);
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.match(overridden.stdout, /No runs yet/);
    assert.ok(existsSync(join(dataDir, 'db')), 'the registry was created under ABRCAST_DATA_DIR');
    assert.ok(!existsSync(join(temp.path, '.abrcast')), 'nothing under ~/.abrcast');
  });

  test('finalize of an unknown run: exit 1 with a fix', async () => {
    const result = await runCli(['finalize', 'rnosuchrun', '--data-dir', dataDir], env, 30_000);
    assertCauseAndFix(result, 1, /^error: Run "rnosuchrun" does not exist$/, /abrcast runs/);
  });

  test('finalize with a malformed id: usage error', async () => {
    const result = await runCli(['finalize', 'Not/AnId', '--data-dir', dataDir], env, 30_000);
    assertCauseAndFix(result, 2, /for <id> but received "Not\/AnId"$/, /abrcast runs/);
  });

  test('encode with an input that does not exist: usage error naming it', async () => {
    const result = await runCli(['encode', 'input.mp4', '--ladder', '1080,720'], env, 30_000);
    assertCauseAndFix(result, 2, /^error: Cannot open input input\.mp4: No such file or directory$/, /input path or URL/);
  });

  test('encode with a malformed --ladder: usage error before the input is opened', async () => {
    const result = await runCli(['encode', 'input.mp4', '--ladder', '1080,71'], env, 30_000);
    assertCauseAndFix(result, 2, /for --ladder but received "1080,71"$/, /abrcast encode --help/);
  });

  test('unknown command: usage error', async () => {
    const result = await runCli(['dance'], env, 30_000);
    assertCauseAndFix(result, 2, /unknown command 'dance'/, /abrcast --help/);
  });

  test('--help documents exit codes and each command has examples', async () => {
    const top = await runCli(['--help'], env, 30_000);
    assert.equal(top.code, 0);
    for (const code of ['0', '1', '2', '3', '130']) assert.match(top.stdout, new RegExp(`^\\s+${code}\\s+\\S`, 'm'));
    for (const command of ['demo', 'serve', 'runs', 'resume', 'finalize', 'encode']) {
      const help = await runCli([command, '--help'], env, 30_000);
      assert.equal(help.code, 0, command);
      assert.match(help.stdout, /Examples:\n\s+\$ abrcast /, `${command} --help has examples`);
    }
  });
});
