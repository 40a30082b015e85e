// addVersion/releaseVersion on both stores: a released version's blocks go (on
// Kubo once `repo gc` runs), but never a block that anything still alive shares:
// a permanent add of the same bytes, another version, a chunk two versions have in
// common, or a block that was on disk before this store instance wrote it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CID } from 'multiformats/cid';
import { create } from 'kubo-rpc-client';

import { HeliaStore } from '../../src/store/helia-store.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { UNIXFS_V1_2025, type UnixfsProfile } from '../../src/store/unixfs-profile.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';

/** Small chunks, so a few KiB make a multi-block file whose leaves two versions can share. */
const SMALL: UnixfsProfile = { ...UNIXFS_V1_2025, name: 'small-test', chunkSize: 1024, maxLinksPerNode: 4 };

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

describe('HeliaStore versions', () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-versions-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a released version is deleted; the newer one stays', async () => {
    const store = new HeliaStore({ dir: join(dir, 'a') });
    const v1 = await store.addVersion(randomBytes(3000));
    const v2 = await store.addVersion(randomBytes(3000));
    await store.releaseVersion(v1);
    assert.equal(await store.has(v1), false);
    assert.equal(await store.has(v2), true);
    await store.releaseVersion(v1); // a repeat is harmless
    await store.close();
  });

  test('blocks shared with a permanent add, another version, or a common chunk are kept', async () => {
    const store = new HeliaStore({ dir: join(dir, 'b'), profile: SMALL });
    const segment = randomBytes(2048);
    const segmentCid = await store.add(segment);
    const sameAsSegment = await store.addVersion(segment);
    assert.equal(sameAsSegment, segmentCid);
    await store.releaseVersion(sameAsSegment);
    assert.deepEqual(Buffer.from(await store.cat(segmentCid)), segment, 'the segment survives its twin version');

    const twice = randomBytes(500);
    const first = await store.addVersion(twice);
    const second = await store.addVersion(twice);
    await store.releaseVersion(first);
    assert.deepEqual(Buffer.from(await store.cat(second)), twice, 'an identical live version survives');
    await store.releaseVersion(second);
    assert.equal(await store.has(second), false);

    const common = randomBytes(4096); // four whole chunks both versions start with
    const older = await store.addVersion(concat(common, randomBytes(1500)));
    const newer = randomBytes(1500);
    const newerCid = await store.addVersion(concat(common, newer));
    await store.releaseVersion(older);
    assert.equal(await store.has(older), false);
    assert.deepEqual(Buffer.from(await store.cat(newerCid)), concat(common, newer), 'the shared chunks are kept');
    await store.close();
  });

  test('a block that was on disk before this store instance is never deleted', async () => {
    const bytes = randomBytes(700);
    const earlier = new HeliaStore({ dir: join(dir, 'c') });
    const cid = await earlier.addVersion(bytes); // another run's object, left in place
    await earlier.close();
    const later = new HeliaStore({ dir: join(dir, 'c') });
    assert.equal(await later.addVersion(bytes), cid);
    await later.releaseVersion(cid);
    assert.deepEqual(Buffer.from(await later.cat(cid)), bytes);
    await later.close();
  });
});

describe('KuboStore versions', () => {
  let kubo: KuboHandle;

  before(async () => {
    kubo = await startKubo();
  });

  after(async () => {
    await kubo?.stop();
  });

  test('a released version is unpinned and goes at repo gc; the newer one and segments stay', async () => {
    const store = new KuboStore({ url: kubo.apiUrl });
    const client = create({ url: kubo.apiUrl });
    const segment = await store.add(randomBytes(5000));
    const v1 = await store.addVersion(randomBytes(3000));
    const v2 = await store.addVersion(randomBytes(3000));
    await store.releaseVersion(v1);
    await store.releaseVersion(v1); // already unpinned: no error
    kubo.cli(['repo', 'gc', '--quiet']);
    const local = new Set<string>();
    for await (const ref of client.refs.local()) local.add(CID.parse(ref.ref).toV1().toString());
    assert.equal(local.has(v1), false, 'the released version was collected');
    assert.equal(local.has(v2), true);
    assert.equal(local.has(segment), true);
  });
});
