// `abrcast resume` of an encrypted run: the journal keeps the encoder's clear bytes,
// and what resume uploads from it is encrypted as the live publisher would have
// (the run's keys from the registry, the same IVs), recorded with its key, and
// listed behind EXT-X-KEY; without the server secret it uploads nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';

import { unwrapRunKey } from '../../src/crypto/key-wrap.js';
import { serverSecrets } from '../../src/crypto/server-secret.js';
import { parseMediaPlaylist } from '../../src/hls/parse-media-playlist.js';
import { SegmentJournal } from '../../src/journal/segment-journal.js';
import { resumeRun } from '../../src/publish/resume-run.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { clearMediaSigns, decryptResource } from '../support/encrypted-media.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

const SECRET = 'encrypted resume test secret, at least 32 characters';

/** Bytes that read as MPEG-TS (sync byte every 188), so a clear upload would show. */
function tsLike(packets: number): Buffer {
  const data = randomBytes(188 * packets);
  for (let i = 0; i < packets; i++) data[i * 188] = 0x47;
  return data;
}

describe('resuming an encrypted run', () => {
  let dir: string;
  let registry: RunRegistry;
  let store: HeliaStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-encrypted-resume-'));
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
  });
  after(async () => {
    await store.close();
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function crashedRun(): Promise<{ runId: string; clear: Map<string, Buffer> }> {
    const { id: runId } = await registry.createRun({ width: 160, height: 90, fps: 10, segmentDuration: 1, encryption: 'aes-128', keyRotation: 2 });
    const journal = await SegmentJournal.create(join(dir, 'journal'), {
      runId, startedAt: new Date().toISOString(), width: 160, height: 90, fps: 10, segmentDuration: 1, renditions: CHILD_RENDITIONS,
      segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
    });
    const clear = new Map<string, Buffer>();
    for (let index = 0; index < 3; index += 1) {
      for (const { name } of CHILD_RENDITIONS) {
        const data = tsLike(10 + index);
        clear.set(`${name}/${index}`, data);
        await journal.append({ rendition: name, index, duration: 1, codecs: 'avc1.42000d', data });
      }
    }
    await journal.close();
    return { runId, clear };
  }

  test('uploads ciphertext with the run\'s keys and lists it behind EXT-X-KEY', async () => {
    const { runId, clear } = await crashedRun();
    const result = await resumeRun({ registry, store, runId, journalDir: join(dir, 'journal'), keySecret: SECRET });
    assert.equal(result.uploaded, 6);
    const secrets = serverSecrets(SECRET);
    for (const { name } of CHILD_RENDITIONS) {
      const playlist = parseMediaPlaylist(new TextDecoder().decode(await store.cat(result.qualities[name].cid)));
      assert.deepEqual(playlist.segments.map((s) => s.key?.uri), [0, 0, 1].map((n) => `/runs/${runId}/keys/${n}`));
      const recorded = await registry.listSegments(runId, name);
      for (const [index, segment] of playlist.segments.entries()) {
        assert.deepEqual(recorded[index].key, { index: Number(segment.key!.uri.split('/').at(-1)), iv: segment.key!.iv });
        const stored = Buffer.from(await store.cat(segment.uri.slice('/ipfs/'.length)));
        assert.deepEqual(clearMediaSigns(stored), [], 'nothing clear reached the store');
        const key = unwrapRunKey((await registry.getRunKey(runId, recorded[index].key!.index))!, secrets, { runId, index: recorded[index].key!.index });
        const decrypted = decryptResource(stored, key, segment.key!.iv);
        // A TS null packet of its own, then the journal's bytes.
        assert.deepEqual([decrypted[0], decrypted[1], decrypted[2]], [0x47, 0x1f, 0xff]);
        assert.deepEqual(decrypted.subarray(188), clear.get(`${name}/${index}`));
      }
    }
  });

  test('without the server secret it refuses before uploading anything', async () => {
    const { runId, clear } = await crashedRun();
    const saved = process.env.ABRCAST_KEY_SECRET;
    delete process.env.ABRCAST_KEY_SECRET;
    try {
      await assert.rejects(resumeRun({ registry, store, runId, journalDir: join(dir, 'journal') }), /ABRCAST_KEY_SECRET/);
    } finally {
      if (saved !== undefined) process.env.ABRCAST_KEY_SECRET = saved;
    }
    // A one-chunk file is one raw block: its CID is the raw CID of its bytes. None is in the store.
    for (const data of clear.values()) assert.equal(await store.has(CID.create(1, raw.code, await sha256.digest(data)).toString()), false);
    // Encrypted with the same keys and IVs, a later resume (with the secret) still works.
    assert.equal((await resumeRun({ registry, store, runId, journalDir: join(dir, 'journal'), keySecret: SECRET })).uploaded, 6);
  });
});
