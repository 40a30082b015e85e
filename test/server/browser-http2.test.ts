// `abrcast demo --tls-cert --tls-key --low-latency` watched in Chromium: the server speaks
// HTTP/2 over TLS (a throwaway CA made here with openssl; Chromium accepts its certificate by
// the key's SPKI hash), hls.js plays the LL run through blocking reloads and part URIs with no
// fatal error, and the page's resource timing says every request of the stream went over h2.
// No timing thresholds: `npm run bench -- --case latency` reports latency over HTTP/1.1 and HTTP/2.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { launchBrowser, type BrowserHandle } from '../support/browser.js';
import { launchDemo } from '../support/demo-process.js';
import { measureHlsLatency } from '../support/hls-latency-probe.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';

const DEMO = ['--size', '640x360', '--segment', '1', '--preset', 'ultrafast', '--duration', '120', '--low-latency', '--container', 'fmp4'];
const WATCH_S = 8;

describe('abrcast demo over HTTP/2, watched by hls.js in Chromium', () => {
  let dir: string;
  let certificate: TestCertificate;
  let browser: BrowserHandle;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'abrcast-browser-h2-'));
    certificate = makeTestCertificate();
    browser = await launchBrowser({ width: 640, height: 360 }, { trustedSpki: [certificate.spkiSha256] });
  });
  after(async () => {
    await browser?.close();
    certificate?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('--tls-cert/--tls-key: https URLs, hls.js plays LL-HLS with every request over h2', { timeout: 180_000 }, async (t) => {
    const demo = launchDemo([...DEMO, '--tls-cert', certificate.certPath, '--tls-key', certificate.keyPath], join(dir, 'demo'), { ca: certificate.ca });
    try {
      const start = await demo.started;
      assert.match(start.masterUrl, /^https:\/\/127\.0\.0\.1:\d+\//);
      assert.match(start.watchUrl, /^https:/);
      await demo.firstMaster();
      const report = await measureHlsLatency({ url: start.masterUrl, seconds: WATCH_S, warmupS: 3, browser });
      t.diagnostic(`hls.js over ${JSON.stringify(report.protocols)}: median ${report.medianLatencyS} s, requests ${JSON.stringify(report.requests)}`);
      assert.deepEqual(report.fatalErrors, []);
      assert.ok(report.playedS >= WATCH_S / 2, `played ${report.playedS} s`);
      assert.equal(report.partsInPlaylist, true);
      assert.ok(report.requests.parts > 0 && report.requests.blockingReloads > 0, 'parts and blocking reloads used');
      const total = Object.values(report.protocols).reduce((a, b) => a + b, 0);
      assert.ok(total >= report.requests.parts + report.requests.blockingReloads, `resource timing saw the requests: ${JSON.stringify(report.protocols)}`);
      assert.deepEqual(Object.keys(report.protocols).filter((p) => p !== 'cache' && p !== 'aborted'), ['h2'], 'every request of the stream that left the browser went over HTTP/2');
    } finally {
      const code = await demo.stop();
      assert.equal(code, 0, `demo exit; stderr: ${demo.stderr()}`);
    }
  });
});
