// A publisher to kill: a paced live run (MultiResolutionHlsOutput with a registry,
// a store and a journal under one data dir, laid out as the CLI lays it out) that
// prints one JSON line per `segment` event and per publish, so a test can kill it
// at any point and know exactly what was produced and what viewers could see.
// Run: node --import tsx test/support/publisher-child.ts '<json options>'
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { SlowHeliaStore } from './slow-helia-store.js';
import { FrameGenerator } from './frames.js';
import { CHILD_RENDITIONS, type PublisherChildOptions } from './publisher-child-options.js';


const options = JSON.parse(process.argv[2]) as PublisherChildOptions;
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const fps = options.fps ?? 10;
const registry = await openRegistry({ databaseUrl: options.databaseUrl ?? '', dataDir: join(options.dataDir, 'db') });
const store = options.kuboUrl
  ? new KuboStore({ url: options.kuboUrl, timeoutMs: 2_000 })
  : new SlowHeliaStore(join(options.dataDir, 'ipfs'), options.uploadDelayMs ?? 0);
const output = new MultiResolutionHlsOutput({
  sourceSize: [160, 90], fps, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast', renditions: CHILD_RENDITIONS,
  store, registry, journalDir: join(options.dataDir, 'journal'), segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
  uploadConcurrency: 1, uploadRetry: { initialDelayMs: 100, maxDelayMs: 500 }, closeDeadlineMs: options.closeDeadlineMs ?? 10_000,
  ...(options.channel !== undefined ? { channel: options.channel } : {}),
  ...(options.windowSeconds !== undefined ? { windowSeconds: options.windowSeconds } : {}),
  ...(options.partDuration !== undefined ? { partDuration: options.partDuration, latency: 'low' as const } : {}),
  ...(options.container !== undefined ? { container: options.container } : {}),
  ...(options.keySecret !== undefined ? { encryption: 'aes-128' as const, keySecret: options.keySecret } : {}),
});
output.on('segment', (segment) => {
  print({
    event: 'segment', runId: output.runId, rendition: segment.rendition, index: segment.index, at: Date.now(),
    sha256: createHash('sha256').update(segment.data).digest('hex'),
  });
});
output.on('publish', (version) => print({ event: 'publish', version }));
output.on('warning', (message) => print({ event: 'warning', message }));
await output.start();
print({ event: 'started', runId: output.runId });

const frames = new FrameGenerator(160, 90);
// Frame i is due at startedAt + i/fps, as PROGRAM-DATE-TIME (and a DASH player's clock) dates it.
const started = performance.now() - (Date.now() - output.startedAt!.getTime());
for (let i = 0; i < options.seconds * fps; i++) {
  const wait = started + (i * 1000) / fps - performance.now();
  if (wait > 0) await sleep(wait);
  await output.write(frames.frame(i));
}
try {
  const summary = await output.close();
  print({ event: 'closed', runId: summary.runId });
} catch (error) {
  print({ event: 'failed', runId: output.runId, message: (error as Error).message });
}
await store.close();
await registry.close();
