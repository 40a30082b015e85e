// What a client of a long run sees and costs: errors that name no URL, path or
// database user (the detail goes to the structured log), CORS only where a
// player loads, gzip on playlists, and run status read in a constant number of
// queries however many segments the run has.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';

import { freePort } from '../support/free-port.js';
import { migrate, openPgliteClient, openPostgresClient, RunRegistry, type SqlClient } from '../../src/registry/index.js';
import { startServer, type RunningServer, type ServerLogger } from '../../src/server/index.js';
import { publicRunError } from '../../src/server/routes/runs.js';
import { serializeMediaPlaylist } from '../../src/hls/media-playlist.js';
import { HeliaStore } from '../../src/store/helia-store.js';
import { KuboStore } from '../../src/store/kubo-store.js';
import { startPostgres } from '../support/postgres.js';
import { countingClient } from '../support/counting-sql-client.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RUN = { width: 640, height: 360, fps: 30, segmentDuration: 1 };
const QUALITY = {
  cid: '', width: 640, height: 360, bitrate: 800, bandwidth: 1_000_000, averageBandwidth: 800_000,
  codecs: 'avc1.64001e', frameRate: 30,
};

/** Everything the server logs, as (level, fields, message). */
function capturingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: unknown, message?: string) => {
    lines.push({ level, fields: fields as Record<string, unknown>, message: message ?? '' });
  };
  const logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as unknown as ServerLogger;
  return { logger, lines };
}

/** A GET with explicit headers (fetch always negotiates gzip and decodes it). */
function rawGet(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('server on a healthy registry and store', () => {
  let dir: string;
  let store: HeliaStore;
  let client: ReturnType<typeof countingClient>;
  let registry: RunRegistry;
  let server: RunningServer;
  const listSegmentsCalls: string[] = [];
  let playlistCid: string;
  let playlistText: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-costs-'));
    store = new HeliaStore({ dir: join(dir, 'ipfs') });
    const inner = await openPgliteClient('memory://');
    await migrate(inner);
    client = countingClient(inner);
    registry = new RunRegistry(client);
    // Any segment scan on the serving path shows up here.
    const listSegments = registry.listSegments.bind(registry);
    registry.listSegments = async (runId, rendition) => {
      listSegmentsCalls.push(runId);
      return listSegments(runId, rendition);
    };
    const lines = Array.from({ length: 2000 }, (_, i) => `#EXTINF:1.00000,\n/ipfs/bafkreisegment${String(i).padStart(6, '0')}`);
    playlistText = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n${lines.join('\n')}\n`;
    playlistCid = await store.add(new TextEncoder().encode(playlistText));
    server = await startServer({ registry, store, port: 0, logger: capturingLogger().logger });
  });

  after(async () => {
    await server?.close();
    await store?.close();
    await registry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function runWithSegments(count: number): Promise<string> {
    const run = await registry.createRun(RUN);
    await registry.publishPlaylists(run.id, 'bafy-master', {
      '360p': { ...QUALITY, cid: playlistCid },
      '180p': { ...QUALITY, cid: playlistCid, width: 320, height: 180, bitrate: 400 },
    });
    for (const rendition of ['360p', '180p']) {
      for (let index = 0; index < count; index++) {
        // One index missing in 180p: recorded counts and the playable prefix differ.
        if (rendition === '180p' && index === count - 3) continue;
        await registry.recordSegment(run.id, { rendition, index, cid: `c${index}`, duration: 1, bytes: 100 });
      }
    }
    return run.id;
  }

  test('GET /runs/:id runs the same statements for 5 and 300 segments, and never lists segments', async () => {
    const small = await runWithSegments(5);
    const large = await runWithSegments(300);
    const statementsFor = async (runId: string) => {
      client.statements.length = 0;
      const response = await fetch(`${server.url}/runs/${runId}`);
      assert.equal(response.status, 200);
      const body = await response.json();
      return { statements: [...client.statements], body };
    };
    const a = await statementsFor(small);
    const b = await statementsFor(large);
    assert.equal(a.statements.length, 1, a.statements.join('\n---\n'));
    assert.deepEqual(b.statements, a.statements);
    assert.doesNotMatch(b.statements[0], /FROM segments\b/);
    assert.deepEqual(b.body.segments, {
      total: 599,
      byRendition: { '360p': { recorded: 300, contiguous: 300 }, '180p': { recorded: 299, contiguous: 297 } },
    });
    assert.deepEqual(b.body.missing, { count: 0, first: [] });

    // The other run routes cost a constant number of statements too; the playlists none once the run's live model is loaded.
    for (const path of [`/runs/${large}/master.m3u8`, `/runs/${large}/quality/360p/playlist.m3u8`, `/runs/${large}/watch`, '/runs', '/']) {
      client.statements.length = 0;
      const response = await fetch(server.url + path);
      assert.equal(response.status, 200, path);
      await response.arrayBuffer();
      assert.ok(client.statements.length <= 3, `${path}: ${client.statements.length} statements`);
      assert.ok(client.statements.every((text) => !/FROM segments\b/.test(text)), path);
    }
    for (const path of [`/runs/${large}/master.m3u8`, `/runs/${large}/quality/360p/playlist.m3u8`]) {
      client.statements.length = 0;
      await (await fetch(server.url + path)).arrayBuffer();
      assert.deepEqual(client.statements, [], `${path} again: answered from memory`);
    }
    assert.deepEqual(listSegmentsCalls, []);
  });

  test('an LL-HLS playlist runs the same statements for 5 and 300 segments, and never lists segments', async () => {
    const llRun = async (count: number) => {
      const run = await registry.createRun({ ...RUN, startedAt: new Date(0) });
      await registry.setPartTarget(run.id, 1 / 3);
      for (let index = 0; index <= count; index++) {
        // Segment `count` is in progress: two of its parts exist.
        for (let part = 0; part < (index === count ? 2 : 3); part++) {
          await registry.recordPart(run.id, {
            rendition: '360p', segmentIndex: index, partIndex: part, cid: `p${index}.${part}`, duration: 1 / 3, independent: part === 0, bytes: 10,
          });
        }
      }
      const text = serializeMediaPlaylist({
        targetDuration: 1, mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: false,
        segments: Array.from({ length: count - 1 }, (_, i) => ({ duration: 1, uri: `/ipfs/bafkreisegment${i}` })),
      });
      await registry.publishPlaylists(run.id, 'bafy-master', { '360p': { ...QUALITY, cid: await store.add(new TextEncoder().encode(text)) } });
      return run.id;
    };
    const statementsFor = async (runId: string) => {
      client.statements.length = 0;
      const response = await fetch(`${server.url}/runs/${runId}/quality/360p/playlist.m3u8`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /#EXT-X-PART:/);
      return client.statements.map((text) => text.replace(/\s+/g, ' '));
    };
    const smallRun = await llRun(5);
    const largeRun = await llRun(300);
    // The first request loads the run's live model: a few statements, the same however long the run.
    const small = await statementsFor(smallRun);
    const large = await statementsFor(largeRun);
    assert.deepEqual(large, small);
    assert.ok(small.length <= 4, small.join('\n---\n'));
    assert.ok(large.every((text) => !/FROM segments\b/.test(text)));
    // Every later request is answered from memory.
    assert.deepEqual(await statementsFor(largeRun), []);
    assert.deepEqual(await statementsFor(smallRun), []);
  });

  test('playlists are gzipped when the client accepts it, with Vary and one ETag per encoding', async () => {
    const runId = await runWithSegments(1);
    for (const path of [`/runs/${runId}/quality/360p/playlist.m3u8`, `/runs/${runId}/master.m3u8`]) {
      const plain = await rawGet(server.url + path);
      const zipped = await rawGet(server.url + path, { 'accept-encoding': 'br;q=1, gzip;q=0.8' });
      const refused = await rawGet(server.url + path, { 'accept-encoding': 'gzip;q=0, identity' });
      for (const answer of [plain, zipped, refused]) {
        assert.equal(answer.status, 200, path);
        assert.equal(answer.headers.vary, 'Accept-Encoding', path);
      }
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(refused.headers['content-encoding'], undefined);
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      assert.equal(zipped.headers['content-length'], String(zipped.body.byteLength));
      assert.deepEqual(gunzipSync(zipped.body), plain.body, path);
      if (path.endsWith('playlist.m3u8')) {
        assert.equal(plain.body.toString(), playlistText);
        // A long media playlist is what gzip is for: far fewer bytes per reload.
        assert.ok(zipped.body.byteLength * 5 < plain.body.byteLength, `${zipped.body.byteLength} vs ${plain.body.byteLength}`);
        assert.equal(plain.headers.etag, `"${playlistCid}"`);
        assert.equal(zipped.headers.etag, `"${playlistCid}.gz"`);
        const revalidated = await rawGet(server.url + path, { 'accept-encoding': 'gzip', 'if-none-match': `"${playlistCid}.gz"` });
        assert.equal(revalidated.status, 304);
        assert.equal(revalidated.body.byteLength, 0);
      }
    }
  });

  test('CORS headers on playlists and the gateway only', async () => {
    const runId = await runWithSegments(1);
    const cors = [`/runs/${runId}/master.m3u8`, `/runs/${runId}/quality/360p/playlist.m3u8`, `/ipfs/${playlistCid}`, `/ipfs-ts/${playlistCid}`];
    const sameOrigin = [`/runs/${runId}`, '/runs', `/runs/${runId}/watch`, '/', '/healthz', '/metrics', '/nothing/here'];
    for (const path of cors) {
      const response = await fetch(server.url + path);
      await response.arrayBuffer();
      assert.equal(response.headers.get('access-control-allow-origin'), '*', path);
      const preflight = await fetch(server.url + path, { method: 'OPTIONS', headers: { origin: 'https://player.example' } });
      assert.equal(preflight.status, 204, path);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*', path);
    }
    for (const path of sameOrigin) {
      const response = await fetch(server.url + path);
      await response.arrayBuffer();
      assert.equal(response.headers.get('access-control-allow-origin'), null, path);
    }
  });
});

describe('server with its store and registry down', () => {
  test('clients get "503 store unavailable" / "registry unavailable"; the log gets the detail', async () => {
    const postgres = await startPostgres();
    const kuboUrl = `http://127.0.0.1:${await freePort()}`;
    const store = new KuboStore({ url: kuboUrl, timeoutMs: 2000 });
    const sql = await openPostgresClient(postgres.url);
    await migrate(sql);
    const registry = new RunRegistry(sql);
    const { logger, lines } = capturingLogger();
    let server: RunningServer | undefined;
    try {
      const run = await registry.createRun(RUN);
      await registry.publishPlaylists(run.id, 'bafy-master', {
        '360p': { ...QUALITY, cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku' },
      });
      await registry.markFailed(run.id, `Upload failed: Kubo RPC not reachable at ${kuboUrl}; spool at /var/tmp/abrcast-spool/r1/seg-3.ts`);
      server = await startServer({ registry, store, port: 0, logger });

      const secrets = [kuboUrl, '127.0.0.1', '/var/tmp', 'abrcast@', 'postgres://', 'ECONNREFUSED'];
      const noSecrets = (path: string, text: string) => {
        for (const secret of secrets) assert.ok(!text.includes(secret), `${path} leaks ${secret}: ${text}`);
      };

      const segment = await fetch(`${server.url}/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku`);
      assert.equal(segment.status, 503);
      assert.deepEqual(await segment.clone().json(), { error: 'store unavailable' });
      noSecrets('/ipfs', await segment.text());
      const playlist = await fetch(`${server.url}/runs/${run.id}/quality/360p/playlist.m3u8`);
      assert.equal(playlist.status, 503);
      noSecrets('playlist', await playlist.text());
      const status = await fetch(`${server.url}/runs/${run.id}`);
      const statusText = await status.text();
      noSecrets('/runs/:id', statusText);
      assert.match(JSON.parse(statusText).error, /^Upload failed: Kubo RPC not reachable at <url>; spool at <path>$/);

      const unseen = await registry.createRun(RUN);
      await postgres.stop();
      // A run this server has a live model of is answered from memory; a run it has not read yet needs the registry.
      const known = await fetch(`${server.url}/runs/${run.id}/master.m3u8`);
      assert.equal(known.status, 200);
      assert.match(await known.text(), /quality\/360p\/playlist\.m3u8/);
      for (const path of [`/runs/${run.id}`, `/runs/${unseen.id}/master.m3u8`, '/runs', '/healthz', '/']) {
        const response: Response = await fetch(server.url + path);
        assert.equal(response.status, 503, path);
        const text = await response.text();
        noSecrets(path, text);
        assert.match(text, /registry unavailable/, path);
      }

      const errors = lines.filter((line) => line.level === 'error');
      const logged = JSON.stringify(errors.map((line) => ({ ...line, err: String((line.fields.err as Error)?.message) })));
      assert.ok(logged.includes(kuboUrl), 'the store URL is in the server log');
      assert.ok(logged.includes('PostgreSQL not reachable at postgres://abrcast@127.0.0.1'), 'the database detail is in the server log');
      assert.ok(errors.some((line) => line.fields.route === '/runs/:id'), 'log lines name the route');
    } finally {
      await server?.close();
      await registry.close().catch(() => {});
      await store.close?.();
      await postgres.stop();
    }
  });

  test('publicRunError takes URLs and paths out of a run error', () => {
    assert.equal(publicRunError(null), null);
    assert.equal(publicRunError('encoder crashed'), 'encoder crashed');
    assert.equal(
      publicRunError('Kubo at https://user:pw@kubo.internal:5001/api failed (spool /home/a/.abrcast/x.ts, ./rel/p)'),
      'Kubo at <url> failed (spool <path>, <path>)',
    );
  });
});
