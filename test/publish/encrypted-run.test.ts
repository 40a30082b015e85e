// An encrypted run end to end in the publisher, on the encoder's own segments and
// parts (TS and fMP4), a real registry (PGlite) and store (Helia): nothing the
// store holds is readable media; each resource decrypts (node:crypto, AES-128-CBC)
// with the key the registry keeps wrapped and the IV the playlists and the
// registry state, into media ffprobe decodes; keys rotate every N segments; no two
// segments share an IV; the registry never holds a key in the clear.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { unwrapRunKey } from '../../src/crypto/key-wrap.js';
import { serverSecrets } from '../../src/crypto/server-secret.js';
import { parseMediaPlaylist } from '../../src/hls/parse-media-playlist.js';
import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import { ResourceCipher } from '../../src/publish/resource-cipher.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { clearMediaSigns, decryptResource } from '../support/encrypted-media.js';
import { FrameGenerator } from '../support/frames.js';
import { LIVE_LADDER } from '../support/live-run.js';
import { probeBytes } from '../support/media.js';

const SECRET = 'test secret of the encrypted-run test, 48 chars!!';
const secrets = serverSecrets(SECRET);

describe('an encrypted run (encryption: aes-128)', () => {
  let dir: string;
  let store: HeliaStore;
  let registry: RunRegistry;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-encrypted-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    registry = await openRegistry({ databaseUrl: '', dataDir: join(dir, 'db') });
  });
  after(async () => {
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const container of ['ts', 'fmp4'] as const) {
    test(`${container}: segments, parts and init segments stored encrypted; keys rotate; each decrypts to media`, { timeout: 180_000 }, async () => {
      const output = new MultiResolutionHlsOutput({
        sourceSize: [640, 360], fps: 30, segmentDuration: 1, renditions: LIVE_LADDER, encoder: 'x264', x264Preset: 'ultrafast',
        latency: 'low', container, store, registry, segmentUrl: '/ipfs/{cid}', partDuration: 1 / 3, journalDir: join(dir, 'journal'),
        encryption: 'aes-128', keyRotation: 2, keySecret: SECRET,
      });
      const frames = new FrameGenerator(640, 360);
      for (let i = 0; i < 150; i++) await output.write(frames.frame(i));
      await output.close();
      const runId = output.runId!;
      const run = (await registry.getRun(runId))!;
      assert.equal(run.encryption, 'aes-128');
      assert.equal(run.keyRotation, 2);
      assert.equal(run.keyUrl, '/runs/{run}/keys/{key}');

      // Keys: wrapped in the registry (never the clear key), one per 2 segments.
      const keys = new Map<number, Buffer>();
      for (let index = 0; ; index++) {
        const wrapped = await registry.getRunKey(runId, index);
        if (wrapped === undefined) break;
        const key = unwrapRunKey(wrapped, secrets, { runId, index });
        assert.equal(key.length, 16);
        assert.ok(!wrapped.includes(key.toString('hex')) && !Buffer.from(wrapped).includes(key), 'the clear key is not in the registry value');
        keys.set(index, key);
      }
      assert.ok(keys.size >= 3, `5 segments at 2 per key need keys 0..2 (found ${keys.size}; the next one may be made ahead)`);

      const inits = await registry.getInitSegments(runId);
      const initKeys = await registry.getInitSegmentKeys(runId);
      const clearInits = new Map<string, Buffer>();
      for (const { name } of LIVE_LADDER) {
        const text = Buffer.from(await store.cat(run.qualityPlaylists[name].cid)).toString();
        const playlist = parseMediaPlaylist(text);
        assert.equal(playlist.segments.length, 5, text);
        // One EXT-X-KEY per segment (each its own IV), plus the init segment's before EXT-X-MAP.
        const keyLines = text.match(/^#EXT-X-KEY:METHOD=AES-128,URI="\/runs\/[a-z0-9]+\/keys\/\d+",IV=0x[0-9a-f]{32}$/gm) ?? [];
        assert.equal(keyLines.length, 5 + (container === 'fmp4' ? 1 : 0), text);
        assert.deepEqual(playlist.segments.map((s) => s.key!.uri), [0, 0, 1, 1, 2].map((n) => `/runs/${runId}/keys/${n}`));
        assert.equal(new Set(playlist.segments.map((s) => s.key!.iv)).size, 5, 'no two segments share an IV');
        if (container === 'fmp4') {
          assert.match(text, /#EXT-X-KEY:[^\n]*\n#EXT-X-MAP:/, 'EXT-X-KEY comes before EXT-X-MAP');
          assert.deepEqual(playlist.mapKey, { method: 'AES-128', uri: `/runs/${runId}/keys/0`, iv: initKeys[name].iv });
          const stored = Buffer.from(await store.cat(inits[name]));
          assert.deepEqual(clearMediaSigns(stored), [], `init segment of ${name} is not readable`);
          const clear = decryptResource(stored, keys.get(0)!, initKeys[name].iv);
          assert.equal(clear.toString('latin1', 4, 8), 'ftyp');
          clearInits.set(name, clear);
        } else {
          assert.equal(playlist.mapKey, undefined);
        }

        const segments = await registry.listSegments(runId, name);
        assert.equal(segments.length, 5);
        for (const [position, segment] of segments.entries()) {
          const listed = playlist.segments[position];
          assert.deepEqual(segment.key, { index: Number(listed.key!.uri.split('/').at(-1)), iv: listed.key!.iv }, 'registry and playlist agree');
          const stored = Buffer.from(await store.cat(segment.cid));
          assert.deepEqual(clearMediaSigns(stored), [], `segment ${name}/${segment.index} is not readable`);
          await assert.rejects(probeBytes(stored), `ffprobe cannot read segment ${name}/${segment.index}`);
          const clear = decryptResource(stored, keys.get(segment.key!.index)!, segment.key!.iv);
          assert.ok(clearMediaSigns(clear).length > 0, 'the decrypted segment is media');
          const probed = await probeBytes(container === 'fmp4' ? Buffer.concat([clearInits.get(name)!, clear]) : clear);
          assert.ok(probed.frames.length >= 29, `decrypted segment ${name}/${segment.index} decodes (${probed.frames.length} frames)`);
        }
      }
      // Parts of the segments the registry still holds: encrypted, with their segment's key and IV.
      const parts = await registry.listRecentParts(runId, '360p', 0);
      assert.ok(parts.length >= 6, `parts recorded (${parts.length})`);
      const segmentKeys = new Map((await registry.listSegments(runId, '360p')).map((s) => [s.index, s.key!]));
      for (const part of parts) {
        assert.deepEqual(part.key, segmentKeys.get(part.segmentIndex), 'a part has its segment\'s key and IV');
        const stored = Buffer.from(await store.cat(part.cid));
        assert.deepEqual(clearMediaSigns(stored), [], `part ${part.segmentIndex}.${part.partIndex} is not readable`);
        const clear = decryptResource(stored, keys.get(part.key!.index)!, part.key!.iv);
        assert.ok(clearMediaSigns(clear).length > 0, 'the decrypted part is media');
      }
    });
  }

  test('the stored bytes are a function of key and place: a retry stores the same CID; segment and its parts differ from the first block on', async () => {
    const key = Buffer.alloc(16, 7);
    const cipher = new ResourceCipher({ container: 'ts', keyFor: async () => key });
    const media = Buffer.alloc(188 * 20, 0x47);
    const segment = { kind: 'segment', rendition: '360p', index: 3 } as const;
    const part0 = { kind: 'part', rendition: '360p', segmentIndex: 3, partIndex: 0 } as const;
    const first = await cipher.encrypt(segment, media);
    assert.deepEqual(await cipher.encrypt(segment, media), first, 'deterministic');
    // Part 0 holds the segment's first bytes and shares its IV, yet no cipher block is shared.
    const part = await cipher.encrypt(part0, media.subarray(0, 188 * 5));
    assert.equal((await cipher.keyOf(part0)).iv, (await cipher.keyOf(segment)).iv);
    for (let block = 0; block < part.length / 16 - 1; block++) {
      assert.notDeepEqual(part.subarray(block * 16, block * 16 + 16), first.subarray(block * 16, block * 16 + 16), `block ${block}`);
    }
    // Another rendition at the same index: another IV under the same key.
    assert.notEqual((await cipher.keyOf({ kind: 'segment', rendition: '180p', index: 3 })).iv, (await cipher.keyOf(segment)).iv);
  });
});
