// `abrcast serve` writes the server's structured log (pino JSON lines) to
// stderr, at the level its flags choose, and keeps stdout for its own events.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { CliProcess, cliEnv, makeTempDir } from './cli-process.js';

interface LogLine { level: number; name: string; msg: string; route?: string; status?: number; method?: string }

const logLines = (stderr: string): LogLine[] =>
  stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);

describe('abrcast serve logging', () => {
  const children: CliProcess[] = [];
  const temps: { remove(): Promise<void> }[] = [];
  after(async () => {
    for (const child of children) await child.stop();
    for (const temp of temps) await temp.remove();
  });

  async function serve(flags: string[]): Promise<{ cli: CliProcess; base: string }> {
    const temp = await makeTempDir('abrcast-serve-log-');
    temps.push(temp);
    const cli = new CliProcess(['serve', '--port', '0', '--json', ...flags, '--data-dir', join(temp.path, 'data')], cliEnv(temp.path));
    children.push(cli);
    const started = await cli.waitForJson<{ event: string; serverUrl?: string }>((event) => event.event === 'start', 60_000);
    return { cli, base: String(started.serverUrl) };
  }

  async function stopped(cli: CliProcess): Promise<string> {
    cli.child.kill('SIGINT');
    const exit = await cli.result(20_000);
    assert.equal(exit.code, 0, exit.stderr);
    return exit.stderr;
  }

  test('--verbose logs every request at debug; --json alone logs start-up at info but no requests', async () => {
    const verbose = await serve(['--verbose']);
    assert.equal((await fetch(`${verbose.base}/runs/nosuchrun`)).status, 404);
    const verboseLines = logLines(await stopped(verbose.cli));
    assert.ok(verboseLines.every((line) => line.name === 'abrcast-server'));
    assert.ok(verboseLines.some((line) => line.level === 30 && line.msg === 'listening'), JSON.stringify(verboseLines));
    assert.ok(
      verboseLines.some((line) => line.level === 20 && line.route === '/runs/:id' && line.status === 404 && line.method === 'GET'),
      JSON.stringify(verboseLines),
    );
    // stdout stays the CLI's own JSON events.
    assert.ok(verbose.cli.lines.every((line) => 'event' in JSON.parse(line)));

    const plain = await serve([]);
    await (await fetch(`${plain.base}/runs/nosuchrun`)).arrayBuffer();
    const plainLines = logLines(await stopped(plain.cli));
    assert.ok(plainLines.some((line) => line.msg === 'listening'));
    assert.ok(!plainLines.some((line) => line.msg === 'request'), JSON.stringify(plainLines));
  });
});
