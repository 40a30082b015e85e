// The screenshot in docs/beyond-the-picture.md: `abrcast demo` (which captions its own clock and
// marks a chapter every 10 s) watched on its watch page in Chromium, with captions on and the
// pointer over the seek bar so the thumbnail preview shows.
//   npx tsx scripts/screenshot-watch-page.ts [out.png]   (default docs/beyond-the-picture-watch-page.png)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { launchBrowser } from '../test/support/browser.js';
import { launchDemo } from '../test/support/demo-process.js';
import { waitFor } from '../test/support/live-run.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/beyond-the-picture-watch-page.png', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'abrcast-screenshot-'));
const demo = launchDemo(['--size', '1280x720', '--segment', '2', '--preset', 'ultrafast'], dir);
const browser = await launchBrowser({ width: 1100, height: 1000 });
try {
  const { watchUrl } = await demo.started;
  const page = await browser.context.newPage();
  await page.goto(watchUrl);
  // A caption on screen, a chapter marker, and a few thumbnails to scrub over.
  await waitFor('captions, a chapter and thumbnails', () => page.evaluate(() => {
    const state = (window as unknown as { abrcast: { activeCues: unknown[]; dateRanges: object; thumbnails: unknown[] } }).abrcast;
    return state.activeCues.length > 0 && Object.keys(state.dateRanges).length > 0 && state.thumbnails.length >= 6;
  }), { timeoutMs: 120_000, intervalMs: 500 });
  const box = (await page.locator('#timeline').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  // The picture playing (not waiting for data), the preview's image loaded.
  await waitFor('the thumbnail preview over a playing video', () => page.evaluate(() => {
    const image = document.getElementById('preview-image') as HTMLImageElement;
    const video = document.querySelector('video')!;
    return image.complete && image.naturalWidth > 0 && !document.getElementById('preview')!.hidden && !video.paused && video.readyState >= 3;
  }), { timeoutMs: 30_000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await demo.stop();
  await rm(dir, { recursive: true, force: true });
}
