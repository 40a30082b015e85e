// A private run's content keys (EXT-X-KEY URI=…/runs/{id}/keys/{n}): the only way
// a key leaves the registry, unwrapped with the server secret for a request that
// playbackRoute let through (a valid token for the run). Never cached by shared
// caches, never logged.
import { KeyUnwrapError, unwrapRunKey } from '../../crypto/key-wrap.js';
import { playbackRoute } from '../playback-access.js';
import { send, sendError } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { runIdParam } from '../validation.js';

const KEY_INDEX = /^\d{1,9}$/;

async function serveKey(request: RouteRequest): Promise<void> {
  const runId = runIdParam(request);
  if (runId === undefined) return;
  if (!KEY_INDEX.test(request.params.n)) return sendError(request.res, 400, 'Invalid key number: expected a decimal integer');
  const index = Number(request.params.n);
  const { registry, access, logger } = request.server;
  // A public run has no keys; an unknown run was let through by playbackRoute to be answered here.
  if (!request.playback?.private) return sendError(request.res, 404, `No key ${index} for run ${runId}`);
  const wrapped = await registry.getRunKey(runId, index);
  if (wrapped === undefined) return sendError(request.res, 404, `No key ${index} for run ${runId}`);
  let key: Buffer;
  try {
    key = unwrapRunKey(wrapped, access.secrets!, { runId, index });
  } catch (error) {
    if (!(error instanceof KeyUnwrapError)) throw error;
    // The message names the run, the index and the secret id: nothing secret.
    logger.error({ err: error, runId, index }, 'run key cannot be unwrapped');
    return sendError(request.res, 503, 'key unavailable');
  }
  send(request.res, 200, key, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'private, no-store' });
}

export const keyRoutes: Route[] = [{ pattern: '/runs/:id/keys/:n', handler: playbackRoute(serveKey, 'registry'), cors: true }];
