// `npm run bench -- --case publish|endpoint --quick --json` end to end, on the
// embedded setup (HeliaStore + PGlite, real server on 127.0.0.1). No speed
// limits: only that every segment was measured at every stage, in a sensible
// order, and that the loaded endpoint answered every request with a 2xx.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bench } from './bench-process.js';


interface Percentiles { count: number; p50: number; p99: number; min: number; max: number; mean: number }
interface Timeline { rendition: string; index: number; readyMs: number; uploadedMs: number; publishedMs: number; servedMs: number }
interface PublishReport {
  case: 'publish';
  date: string;
  machine: { host: string };
  loadAverageAtEnd: number[];
  config: { quick: boolean; seconds: number; fps: number; framesPerSegment: number; renditions: { name: string }[]; setups: string[] };
  skipped: unknown[];
  setups: {
    setup: string; runId: string; frames: number; segments: number; polls: number;
    latencyMs: Record<'readyToServed' | 'readyToUploaded' | 'uploadedToPublished' | 'publishedToServed', Percentiles>;
    renditionsReadyToServedMs: Record<string, Percentiles>;
    timeline: Timeline[];
  }[];
}
interface EndpointReport {
  case: 'endpoint';
  date: string;
  machine: { host: string };
  config: { connections: number; seconds: number; setups: string[] };
  results: {
    setup: string; route: string; path: string; connections: number; seconds: number;
    requests: { total: number; perSecondMean: number; perSecondP50: number };
    latencyMs: { mean: number; p50: number; p99: number; max: number };
    status2xx: number; non2xx: number; errors: number; timeouts: number;
  }[];
}



async function onlyResultFile(outDir: string, name: string): Promise<unknown> {
  assert.deepEqual(await readdir(outDir), [name]);
  return JSON.parse(await readFile(join(outDir, name), 'utf8'));
}

describe('npm run bench -- --case publish --quick --json', () => {
  let outDir: string;
  let report: PublishReport;
  let stderr: string;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-publish-'));
    const result = await bench(['--case', 'publish', '--quick', '--json', '--out-dir', outDir], 60_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    stderr = result.stderr;
    report = JSON.parse(result.stdout) as PublishReport;
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  test('runs the embedded setup only and writes the same JSON it prints', async () => {
    assert.equal(report.case, 'publish');
    assert.equal(report.config.quick, true);
    assert.deepEqual(report.config.setups, ['embedded']);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.setups.map((s) => s.setup), ['embedded']);
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    assert.deepEqual(await onlyResultFile(outDir, `${report.date}-${host}-publish-quick.json`), report);
    assert.match(stderr, /\| embedded \(HeliaStore \+ PGlite\) \| \d+ \|/);
  });

  test('every segment index of every rendition got every stage, in order', () => {
    const { config } = report;
    const [setup] = report.setups;
    const perRendition = Math.ceil(Math.round(config.seconds * config.fps) / config.framesPerSegment);
    assert.ok(perRendition >= 2);
    assert.equal(setup!.segments, perRendition * config.renditions.length);
    assert.equal(setup!.timeline.length, setup!.segments);
    for (const { name } of config.renditions) {
      const indices = setup!.timeline.filter((s) => s.rendition === name).map((s) => s.index);
      assert.deepEqual(indices, Array.from({ length: perRendition }, (_, i) => i), `indices of ${name}`);
      assert.equal(setup!.renditionsReadyToServedMs[name]!.count, perRendition);
    }
    for (const s of setup!.timeline) {
      const where = `${s.rendition}/${s.index}`;
      assert.ok(s.readyMs > 0, `ready of ${where}`);
      assert.ok(s.uploadedMs >= s.readyMs, `uploaded after ready for ${where}`);
      assert.ok(s.publishedMs >= s.uploadedMs, `published after uploaded for ${where}`);
      // The registry is written before the 'publish' event fires, and the server answers from the registry.
      assert.ok(s.servedMs >= s.publishedMs, `served after published for ${where}`);
    }
    assert.ok(setup!.polls > setup!.segments, 'the served playlists were polled');
  });

  test('the summaries are positive and ordered', () => {
    const [setup] = report.setups;
    for (const [stage, p] of Object.entries(setup!.latencyMs)) {
      assert.equal(p.count, setup!.segments, `count of ${stage}`);
      assert.ok(p.min >= 0 && p.min <= p.p50 && p.p50 <= p.p99 && p.p99 <= p.max, `order of ${stage}`);
    }
    const endToEnd = setup!.latencyMs.readyToServed;
    assert.ok(endToEnd.p50 > 0 && endToEnd.min > 0, 'a segment cannot be served the moment it is ready');
    // Each stage's mean adds up to the end-to-end mean.
    const { readyToUploaded, uploadedToPublished, publishedToServed } = setup!.latencyMs;
    assert.ok(Math.abs(readyToUploaded.mean + uploadedToPublished.mean + publishedToServed.mean - endToEnd.mean) < 1e-6);
  });
});

describe('npm run bench -- --case endpoint --quick --json', () => {
  let outDir: string;
  let report: EndpointReport;

  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'abrcast-bench-endpoint-'));
    const result = await bench(['--case', 'endpoint', '--quick', '--json', '--out-dir', outDir], 60_000);
    assert.equal(result.code, 0, `bench failed:\n${result.stderr}`);
    report = JSON.parse(result.stdout) as EndpointReport;
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  test('loads the quality playlist and the master of the embedded setup, and writes the JSON', async () => {
    assert.equal(report.case, 'endpoint');
    assert.deepEqual(report.results.map((r) => [r.setup, r.route]), [['embedded', 'quality'], ['embedded', 'master']]);
    assert.match(report.results[0]!.path, /^\/runs\/[^/]+\/quality\/[^/]+\/playlist\.m3u8$/);
    assert.match(report.results[1]!.path, /^\/runs\/[^/]+\/master\.m3u8$/);
    const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
    assert.deepEqual(await onlyResultFile(outDir, `${report.date}-${host}-endpoint-quick.json`), report);
  });

  test('every request was answered with a 2xx, and the figures make sense', () => {
    for (const r of report.results) {
      assert.equal(r.connections, report.config.connections);
      assert.equal(r.non2xx, 0, `non-2xx of ${r.route}`);
      assert.equal(r.errors, 0, `errors of ${r.route}`);
      assert.equal(r.timeouts, 0, `timeouts of ${r.route}`);
      assert.ok(r.requests.total > 0, `requests of ${r.route}`);
      assert.equal(r.status2xx, r.requests.total, `2xx of ${r.route}`);
      assert.ok(r.requests.perSecondMean > 0 && r.requests.perSecondP50 > 0, `req/s of ${r.route}`);
      // autocannon records whole milliseconds: a loopback answer may round to 0.
      assert.ok(r.latencyMs.p50 >= 0 && r.latencyMs.p50 <= r.latencyMs.p99 && r.latencyMs.p99 <= r.latencyMs.max, `latency of ${r.route}`);
      assert.ok(r.latencyMs.mean >= 0 && r.latencyMs.max > 0, `latency of ${r.route}`);
    }
  });
});

describe('bench --case errors', () => {
  test('a flag of another case is refused before any work', async () => {
    const result = await bench(['--case', 'publish', '--only', 'abrcast'], 30_000);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--only does not apply to --case publish/);
    assert.equal(result.stdout, '');
  });

  test('an unknown case or setup is named', async () => {
    const badCase = await bench(['--case', 'nope'], 30_000);
    assert.equal(badCase.code, 2);
    assert.match(badCase.stderr, /Expected one of pipelines, publish, endpoint, soak for --case but received "nope"/);
    const badSetup = await bench(['--case', 'endpoint', '--setups', 'embedded,s3'], 30_000);
    assert.equal(badSetup.code, 2);
    assert.match(badSetup.stderr, /Expected one of embedded, kubo, kubo-postgres for --setups but received "s3"/);
  });
});
