// HTML pages and the player script they load.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { runListHtml } from '../run-list-page.js';
import { sendError, sendText } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { runIdParam } from '../validation.js';
import { watchPageHtml } from '../watch-page.js';
import { playbackRoute, tokenCookie } from '../playback-access.js';

const HTML = 'text/html; charset=utf-8';

// hls.js comes from the installed package, so the page works offline and the
// version is the one package-lock pins, not whatever a CDN serves.
const hlsScriptPath = createRequire(import.meta.url).resolve('hls.js/dist/hls.min.js');
let hlsScript: Promise<Buffer> | undefined;

async function hlsAsset({ res }: RouteRequest): Promise<void> {
  hlsScript ??= readFile(hlsScriptPath).catch((error: unknown) => {
    hlsScript = undefined;
    throw error;
  });
  const body = await hlsScript;
  res.writeHead(200, {
    'Content-Type': 'text/javascript; charset=utf-8',
    'Cache-Control': 'public, max-age=3600',
    'Content-Length': String(body.byteLength),
  });
  res.end(body);
}

async function home({ res, server }: RouteRequest): Promise<void> {
  sendText(res, 200, runListHtml(await server.registry.listRuns({ limit: 100 })), HTML, 'no-cache');
}

async function watch(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  const run = request.run !== undefined ? request.run : await request.server.registry.getRun(runId);
  if (!run) return sendError(request.res, 404, `No run ${runId}`);
  // A private run's page keeps the token in a cookie for its player's requests (same path, same expiry).
  const token = request.playback?.token;
  if (token !== undefined) request.res.setHeader('Set-Cookie', tokenCookie(request, token));
  // The page's URL may hold a token: it goes to no other site in a Referer.
  if (request.playback?.private) request.res.setHeader('Referrer-Policy', 'same-origin');
  sendText(request.res, 200, watchPageHtml(runId), HTML, token !== undefined ? 'private, no-store' : 'no-cache');
}

export const pageRoutes: Route[] = [
  { pattern: '/', handler: home, admin: true },
  { pattern: '/runs/:id/watch', handler: playbackRoute(watch, 'registry') },
  { pattern: '/assets/hls.min.js', handler: hlsAsset },
];
