// A private channel across a crash, per container: a paced encrypted producer on
// Kubo and PGlite (the publisher child, LL-HLS parts) is SIGKILLed; a new private
// producer on the same data dir continues the channel. Its playlists, published
// and LL (through /channels/{name}/ with a channel token), list the dead run's
// tail behind that run's keys and IVs, then EXT-X-DISCONTINUITY and its own
// segments behind its own keys (fMP4: its init segment's key before its
// EXT-X-MAP). The channel token opens every key listed, and a segment of each
// run decrypts with its key into media ffprobe reads; no token, another
// channel's or another run's: 401/403. A clear producer on the private channel
// is refused by name.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { signPlaybackToken } from '../../src/crypto/playback-token.js';
import type { SegmentKey } from '../../src/hls/types.js';
import { parseMediaPlaylist } from '../../src/hls/parse-media-playlist.js';
import { MultiResolutionHlsOutput } from '../../src/publish/multi-resolution-hls-output.js';
import type { PublishedVersion } from '../../src/publish/types.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunRegistry } from '../../src/registry/run-registry.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { makeTempDir } from '../cli/cli-process.js';
import { clearMediaSigns, decryptResource } from '../support/encrypted-media.js';
import { killPublisherChildAfter } from '../support/killed-publisher-child.js';
import { startKubo, type KuboHandle } from '../support/kubo.js';
import { waitFor } from '../support/live-run.js';
import { playable, probeBytes } from '../support/media.js';
import { writePaced } from '../support/paced-writer.js';
import { parsePlaylist } from '../support/parse-playlist.js';
import { CHILD_RENDITIONS } from '../support/publisher-child-options.js';

const SECRET = 'the encrypted-channel test secret, 32+ characters';
const WINDOW = 4;
const PART = 0.2;
const RENDITION = '90p';

let kubo: KuboHandle;
before(async () => {
  kubo = await startKubo();
});
after(async () => {
  await kubo?.stop();
});

for (const container of ['ts', 'fmp4'] as const) {
  describe(`a private channel (${container}) across a SIGKILL and a restart`, () => {
    const channel = `private-${container}`;
    const ext = container === 'ts' ? 'ts' : 'm4s';
    let temp: Awaited<ReturnType<typeof makeTempDir>>;
    let registry: RunRegistry;
    let store: KuboStore;
    let server: RunningServer;
    let firstRunId: string;
    let secondRunId: string;
    let msnBase: number;
    let token: string;
    let mixing: unknown;
    const versions: PublishedVersion[] = [];
    const llTexts: string[] = [];
    const warnings: string[] = [];
    const playlistUrl = () => `${server.url}/channels/${channel}/quality/${RENDITION}/playlist.m3u8`;

    before(async () => {
      temp = await makeTempDir('abrcast-private-channel-');
      const dataDir = join(temp.path, 'data');
      const lines = await killPublisherChildAfter(
        { dataDir, kuboUrl: kubo.apiUrl, seconds: 60, channel, windowSeconds: WINDOW, partDuration: PART, container, keySecret: SECRET },
        temp.path, 5,
      );
      firstRunId = lines.find((line) => line.event === 'started')!.runId!;
      registry = await openRegistry({ databaseUrl: '', dataDir: join(dataDir, 'db') });
      store = new KuboStore({ url: kubo.apiUrl });
      server = await startServer({ registry, store, port: 0, keySecret: SECRET });
      token = signPlaybackToken({ scope: { channel }, ttl: '1h' }, SECRET);
      await registry.heartbeat(firstRunId);
      const settings = {
        sourceSize: [160, 90] as [number, number], fps: 10, segmentDuration: 1, encoder: 'x264' as const, x264Preset: 'ultrafast' as const,
        renditions: CHILD_RENDITIONS, store, registry, journalDir: join(dataDir, 'journal'), segmentUrl: '/ipfs/{cid}', playlistUrl: '/ipfs/{cid}',
        channel, windowSeconds: WINDOW, partDuration: PART, latency: 'low' as const, container,
      };
      const output = new MultiResolutionHlsOutput({ ...settings, encryption: 'aes-128', keySecret: SECRET });
      output.on('publish', (version) => versions.push(version));
      output.on('warning', (message) => warnings.push(message));
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const response = await fetch(`${playlistUrl()}?token=${token}`).catch(() => undefined);
          if (response?.status === 200) llTexts.push(await response.text());
          else await response?.arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      })();
      await output.start();
      secondRunId = output.runId!;
      msnBase = (await registry.getRun(secondRunId))!.msnBase;
      await writePaced(output, { width: 160, height: 90, fps: 10, seconds: 6 });
      // A public producer on the private channel (once this run's init segments are recorded: they tell its container).
      const clear = new MultiResolutionHlsOutput(settings);
      mixing = await clear.start().then(() => undefined, (error: unknown) => error);
      await clear.close().catch(() => undefined);
      polling = false;
      await poll;
      await output.close();
    });

    after(async () => {
      await server?.close();
      await store?.close();
      await registry?.close();
      await temp?.remove();
    });

    /** Key URIs and IVs by run: what each EXT-X-KEY of a playlist names. */
    const keyRun = (key: SegmentKey | undefined) => /\/runs\/(r[a-z0-9]+)\/keys\/\d+/.exec(key?.uri ?? '')?.[1];

    test('the published playlists: the tail behind the dead run\'s keys and init segment, then the new run\'s own after EXT-X-DISCONTINUITY', async () => {
      assert.deepEqual(warnings, [], 'the new run published without a warning');
      const inits = [await registry.getInitSegments(firstRunId), await registry.getInitSegments(secondRunId)];
      const text = versions.map((version) => version.media[RENDITION]!.text).find((candidate) => {
        const playlist = parseMediaPlaylist(candidate);
        return playlist.mediaSequence < msnBase && playlist.mediaSequence + playlist.segments.length > msnBase;
      });
      assert.ok(text, `a version lists the tail and the new run's segments (from MSN ${msnBase})`);
      const both = parseMediaPlaylist(text);
      let map = both.mapUri;
      let mapKey = both.mapKey;
      both.segments.forEach((segment, position) => {
        const msn = both.mediaSequence + position;
        const run = msn < msnBase ? firstRunId : secondRunId;
        assert.equal(keyRun(segment.key), run, `MSN ${msn}: its run's key URI (${segment.key?.uri})`);
        assert.equal(segment.discontinuity === true, msn === msnBase, `MSN ${msn}: EXT-X-DISCONTINUITY only where the new run starts`);
        if (segment.mapUri !== undefined) [map, mapKey] = [segment.mapUri, segment.mapKey];
        if (container === 'fmp4') {
          assert.equal(map, `/ipfs/${inits[msn < msnBase ? 0 : 1][RENDITION]}`, `MSN ${msn}: its run's init segment`);
          assert.equal(keyRun(mapKey), run, `MSN ${msn}: its init segment's key is its run's`);
        }
      });
      // An independent reader agrees.
      const { manifest } = parsePlaylist(text);
      const runs = manifest.segments.map((segment) => keyRun(segment.key ? { method: 'AES-128', uri: segment.key.uri, iv: '' } : undefined));
      assert.deepEqual(runs, both.segments.map((_, position) => (both.mediaSequence + position < msnBase ? firstRunId : secondRunId)));
      if (container === 'fmp4') {
        assert.deepEqual(manifest.segments.map((segment) => /\/runs\/(r[a-z0-9]+)\//.exec(segment.map?.key?.uri ?? '')?.[1]), runs, 'each segment\'s init segment key');
      }
    });

    test('the channel\'s LL playlists list the same keys, every key URI with the channel token', () => {
      const crossing = llTexts.filter((text) => text.includes('#EXT-X-DISCONTINUITY') && text.includes(`/runs/${firstRunId}/keys/`) && text.includes(`/runs/${secondRunId}/keys/`));
      assert.ok(crossing.length > 0, `${llTexts.length} LL playlists polled; one lists both runs`);
      for (const text of crossing) {
        const uris = [...text.matchAll(/#EXT-X-KEY:METHOD=AES-128,URI="([^"]*)"/g)].map((match) => match[1]);
        assert.ok(uris.every((uri) => uri.endsWith(`?token=${token}`)), uris.join('\n'));
        assert.doesNotMatch(text, /METHOD=NONE/);
        // The discontinuity: the new run's keys (and, fMP4, its init segment's key and EXT-X-MAP) right after it.
        const after = text.slice(text.indexOf('#EXT-X-DISCONTINUITY\n'));
        assert.match(after, new RegExp(`^#EXT-X-DISCONTINUITY\\n#EXT-X-KEY:METHOD=AES-128,URI="/runs/${secondRunId}/keys/0\\?token=[^"]+",IV=0x[0-9a-f]{32}\\n` +
          (container === 'fmp4' ? '#EXT-X-MAP:URI="/ipfs/[^"]+"\\n#EXT-X-KEY:METHOD=AES-128,URI="/runs/' + secondRunId + '/keys/0\\?' : '')));
        for (const segment of parsePlaylist(text).manifest.segments) assert.ok(segment.key, `${segment.uri} is listed behind a key`);
      }
    });

    test('the channel token opens the keys of both runs, and a segment of each run decrypts with its key into media ffprobe reads', async () => {
      const text = llTexts.findLast((candidate) => candidate.includes(`/runs/${firstRunId}/keys/`) && candidate.includes(`/runs/${secondRunId}/keys/`))!;
      // Read by m3u8-parser, as a player would: each segment with its key and IV, and its init segment with its own.
      const { manifest } = parsePlaylist(text);
      const hex = (iv: Uint32Array | undefined) => Array.from(iv!, (word) => word.toString(16).padStart(8, '0')).join('');
      const asKey = (key: { uri: string; iv?: Uint32Array } | undefined): SegmentKey | undefined => key && { method: 'AES-128', uri: key.uri, iv: hex(key.iv) };
      const checked = new Set<string>();
      for (const [position, listed] of manifest.segments.entries()) {
        const segment = { uri: listed.uri, key: asKey(listed.key) };
        const [map, mapKey] = [listed.map?.uri, asKey(listed.map?.key)];
        const run = keyRun(segment.key)!;
        if (checked.has(run)) continue;
        checked.add(run);
        const msn = manifest.mediaSequence! + position;
        const keyOf = async (key: SegmentKey) => {
          const response = await fetch(new URL(key.uri, server.url));
          assert.equal(response.status, 200, `${key.uri.split('?')[0]}`);
          assert.equal(response.headers.get('cache-control'), 'private, no-store');
          const bytes = new Uint8Array(await response.arrayBuffer());
          assert.equal(bytes.length, 16);
          return bytes;
        };
        // Through the channel's URI, as a player reads it: the run that numbered the MSN answers.
        const response = await fetch(new URL(segment.uri, playlistUrl()));
        assert.equal(response.status, 200, `segment ${msn} through the channel`);
        assert.match(segment.uri, new RegExp(`^segment/${msn}\\.${ext}\\?token=`));
        const cipher = new Uint8Array(await response.arrayBuffer());
        assert.deepEqual(clearMediaSigns(cipher), [], `segment ${msn} is ciphertext`);
        const media = decryptResource(cipher, await keyOf(segment.key!), segment.key!.iv);
        let init: Buffer | undefined;
        if (container === 'fmp4') {
          const initCipher = new Uint8Array(await (await fetch(new URL(map!, server.url))).arrayBuffer());
          assert.deepEqual(clearMediaSigns(initCipher), [], 'the init segment is ciphertext');
          init = decryptResource(initCipher, await keyOf(mapKey!), mapKey!.iv);
        }
        const probed = await probeBytes(playable(media, init), { frames: false });
        assert.equal(probed.streams.find((stream) => stream.codec_type === 'video')?.codec_name, 'h264', `segment ${msn} of run ${run}`);
      }
      assert.deepEqual([...checked].sort(), [firstRunId, secondRunId].sort(), 'a segment of each run');
    });

    test('no token: 401; another channel\'s token or another run\'s: 403, on the playlists and the keys', async () => {
      const other = signPlaybackToken({ scope: { channel: 'elsewhere' }, ttl: '1h' }, SECRET);
      const secondOnly = signPlaybackToken({ scope: { run: secondRunId }, ttl: '1h' }, SECRET);
      const key = (run: string) => `${server.url}/runs/${run}/keys/0`;
      const cases: [string, string | undefined, number][] = [
        [`${server.url}/channels/${channel}/master.m3u8`, undefined, 401],
        [playlistUrl(), undefined, 401],
        [key(firstRunId), undefined, 401],
        [key(secondRunId), undefined, 401],
        [`${server.url}/channels/${channel}/master.m3u8`, other, 403],
        [playlistUrl(), other, 403],
        [key(firstRunId), other, 403],
        [key(secondRunId), other, 403],
        // A token for the new run only does not open the previous run's keys.
        [key(firstRunId), secondOnly, 403],
        [key(secondRunId), secondOnly, 200],
        [key(firstRunId), token, 200],
        // The channel's status, archive and watch page are private like a private run's.
        [`${server.url}/channels/${channel}`, undefined, 401],
        [`${server.url}/channels/${channel}/archive`, undefined, 401],
        [`${server.url}/channels/${channel}/watch`, undefined, 401],
        [`${server.url}/channels/${channel}`, other, 403],
        [`${server.url}/channels/${channel}/watch`, other, 403],
        [`${server.url}/channels/${channel}`, token, 200],
        [`${server.url}/channels/${channel}/archive`, token, 200],
        [`${server.url}/channels/${channel}/watch`, token, 200],
      ];
      for (const [url, given, status] of cases) {
        const response = await fetch(given === undefined ? url : `${url}?token=${given}`);
        const body = new Uint8Array(await response.arrayBuffer());
        assert.equal(response.status, status, `${url.replace(server.url, '')} with ${given === undefined ? 'no token' : given === other ? 'another channel\'s token' : given === token ? 'the channel token' : 'the new run\'s token'}`);
        if (status !== 200) assert.ok(body.length !== 16 && !new TextDecoder().decode(body).includes(given ?? '\0'), 'no key bytes, no token echoed');
        if (url.endsWith('/watch') && status === 200) {
          // The page keeps the token for its status requests, on the channel's path.
          assert.match(response.headers.get('set-cookie') ?? '', new RegExp(`^abrcast_token=${given!.replace(/[.]/g, '\\.')}; Path=/channels/${channel};`));
        }
      }
    });

    test('a public producer on the private channel is refused by name; the dead private run was completed from its journal with its keys', async () => {
      assert.match(String(mixing), new RegExp(`Channel "${channel}" is private \\(encryption aes-128\\) \\(its run r[a-z0-9]+\\); this producer's run is public \\(no encryption\\)[\\s\\S]*add --encrypt`));
      const first = await waitFor('the dead run ended', async () => {
        const record = (await registry.getRun(firstRunId))!;
        return record.status !== 'live' ? record : undefined;
      }, { timeoutMs: 30_000, intervalMs: 250 });
      assert.equal(first.status, 'ended', first.error ?? '');
      const final = parseMediaPlaylist(new TextDecoder().decode(await store.cat(first.qualityPlaylists[RENDITION].cid)));
      assert.ok(final.segments.length >= 5 && final.segments.every((segment) => keyRun(segment.key) === firstRunId), 'every segment behind the run\'s own keys');
    });
  });
}
