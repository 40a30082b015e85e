// Linear storage: a live run publishes a new version of every playlist per segment
// index, yet each store ends up holding the segments plus about one set of
// playlists (older versions are released once the registry names newer ones),
// while onPlaylistUpdate still gets a fresh master CID per publish. With LL-HLS
// parts (the same bytes as the segments again) the parts are released once the
// live edge is past them, so the store holds the media about once, not twice. On
// both stores, measured from the store itself: the embedded blockstore's files,
// Kubo's blocks after `repo gc`.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { create } from 'kubo-rpc-client';
import { CID } from 'multiformats/cid';

import { MultiResolutionHlsOutput, type PublishedVersion } from '../../src/index.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { ContentStore } from '../../src/store/content-store.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { FrameGenerator } from '../support/frames.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';

const FPS = 10;
const SEGMENTS = 120;
const MAX_RATIO = 1.05;
/** The empty UnixFS directory `ipfs init` pins. */
const EMPTY_DIRECTORY = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn';

interface Outcome {
  segmentBytes: number;
  versions: PublishedVersion[];
  updates: string[];
  store: ContentStore;
}

/** LL-HLS: parts of 0.2 s (2 frames at 10 fps), 5 per segment. */
const PARTS = { partDuration: 0.2, latency: 'low' as const };

/** A run of SEGMENTS one-second segments at 160x90, fed as fast as the encoder takes it. */
async function publishRun(store: ContentStore, dir: string, extra: Partial<ConstructorParameters<typeof MultiResolutionHlsOutput>[0]> = {}): Promise<Outcome> {
  const registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
  try {
    const updates: string[] = [];
    const output = new MultiResolutionHlsOutput({
      sourceSize: [160, 90], fps: FPS, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
      renditions: [{ name: '90p', width: 160, height: 90, bitrate: 150 }, { name: '72p', width: 128, height: 72, bitrate: 80 }],
      store, registry, journalDir: join(dir, 'journal'),
      onPlaylistUpdate: (masterCid) => {
        updates.push(masterCid);
      },
      ...extra,
    });
    output.on('warning', (message) => console.log(`warning: ${message}`));
    const versions: PublishedVersion[] = [];
    let segmentBytes = 0;
    output.on('publish', (version) => versions.push(version));
    output.on('segment', (segment) => {
      segmentBytes += segment.bytes;
    });
    // Thumbnails are media that stay, as segments do; their playlists (image, I-frame) are versions like the others.
    output.encoder.on('thumbnail', (thumbnail) => {
      segmentBytes += thumbnail.data.length;
    });
    const frames = new FrameGenerator(160, 90);
    for (let i = 0; i < SEGMENTS * FPS; i++) await output.write(frames.frame(i));
    await output.close();
    return { segmentBytes, versions, updates, store };
  } finally {
    await registry.close();
  }
}

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function checkContract(outcome: Outcome, parts: boolean): void {
  const { versions, updates } = outcome;
  // At most one per segment index and the final one, plus with parts the first version (LL fast start,
  // before any segment); fewer when publishes queued up and were merged.
  assert.ok(versions.length > SEGMENTS / 10 && versions.length <= SEGMENTS + (parts ? 2 : 1), `${versions.length} publishes`);
  assert.equal(updates.length, versions.length, 'onPlaylistUpdate after every publish');
  assert.deepEqual(updates, versions.map((version) => version.masterCid));
  assert.equal(new Set(updates).size, updates.length, 'a fresh master CID each time');
}

async function checkFinalReadable(outcome: Outcome): Promise<void> {
  const final = outcome.versions.at(-1)!;
  assert.equal(final.final, true);
  assert.match(new TextDecoder().decode(await outcome.store.cat(final.masterCid)), /#EXT-X-STREAM-INF/);
  for (const media of Object.values(final.media)) {
    const text = new TextDecoder().decode(await outcome.store.cat(media.cid));
    assert.equal(text, media.text);
    for (const cid of text.match(/(?<=\/ipfs\/)\w+/g) ?? []) assert.ok(await outcome.store.has(cid), `segment ${cid} is kept`);
  }
}

for (const parts of [false, true]) describe(`linear storage on the embedded store${parts ? ', with LL-HLS parts' : ''}`, () => {
  let dir: string;
  let outcome: Outcome;
  let storeBytes: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-linear-helia-'));
    const store = new HeliaStore({ dir: join(dir, 'ipfs') });
    outcome = await publishRun(store, dir, parts ? PARTS : {});
    storeBytes = await directoryBytes(join(dir, 'ipfs'));
  });

  after(async () => {
    await outcome?.store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the blockstore holds the segments and about one set of playlists', () => {
    const ratio = storeBytes / outcome.segmentBytes;
    console.log(`embedded${parts ? ' with parts' : ''}: store ${storeBytes} B / segments ${outcome.segmentBytes} B = ${ratio.toFixed(4)} after ${outcome.versions.length} publishes`);
    assert.ok(ratio <= MAX_RATIO, `store/segments ${ratio.toFixed(3)} > ${MAX_RATIO}`);
    assert.ok(ratio >= 1, 'every segment byte is stored');
  });

  test('every publish still gave a fresh master CID, and the final playlists and segments are readable', async () => {
    checkContract(outcome, parts);
    await checkFinalReadable(outcome);
  });
});

for (const parts of [false, true]) describe(`linear storage on Kubo${parts ? ', with LL-HLS parts' : ''}`, () => {
  let dir: string;
  let kubo: KuboHandle;
  let outcome: Outcome;
  let storeBytes: number;
  let pins: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-linear-kubo-'));
    kubo = await startKubo();
    outcome = await publishRun(new KuboStore({ url: kubo.apiUrl }), dir, parts ? PARTS : {});
    kubo.cli(['repo', 'gc', '--quiet']);
    const client = create({ url: kubo.apiUrl });
    storeBytes = 0;
    for await (const ref of client.refs.local()) storeBytes += (await client.block.stat(CID.parse(ref.ref))).size;
    pins = 0;
    for await (const pin of client.pin.ls({ type: 'recursive' })) if (pin.cid.toString() !== EMPTY_DIRECTORY) pins += 1;
  });

  after(async () => {
    await kubo?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('after repo gc Kubo holds the segments and one set of playlists', () => {
    const ratio = storeBytes / outcome.segmentBytes;
    console.log(`kubo${parts ? ' with parts' : ''}: blocks ${storeBytes} B / segments ${outcome.segmentBytes} B = ${ratio.toFixed(4)}, ${pins} pins after ${outcome.versions.length} publishes`);
    assert.ok(ratio <= MAX_RATIO, `store/segments ${ratio.toFixed(3)} > ${MAX_RATIO}`);
    assert.ok(ratio >= 1, 'every segment byte is stored');
    // Every segment and thumbnail, plus the final master, media, I-frame and image playlists and
    // thumbnail track: nothing older (and no part) stays pinned.
    assert.equal(pins, 2 * SEGMENTS + SEGMENTS + 1 + 2 + 2 + 1 + 1);
  });

  test('every publish still gave a fresh master CID, and the final playlists and segments are readable', async () => {
    checkContract(outcome, parts);
    await checkFinalReadable(outcome);
  });
});
