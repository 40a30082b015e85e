// Path parameters checked before anything touches the database or the store.
import { CID } from 'multiformats/cid';
import { CID_SHAPE } from '../hls/segment-url.js';
import { isValidQualityName, isValidRunId, QUALITY_NAME_PATTERN, RUN_ID_PATTERN } from '../registry/validation.js';
import { sendError } from './responses.js';
import type { RouteRequest } from './router.js';

export function isValidCid(value: string): boolean {
  if (!CID_SHAPE.test(value)) return false;
  try {
    CID.parse(value);
    return true;
  } catch {
    return false;
  }
}

/** The run id, or undefined after answering 400. */
export function runIdParam({ params, res }: RouteRequest): string | undefined {
  if (isValidRunId(params.id)) return params.id;
  sendError(res, 400, `Invalid run id: expected ${RUN_ID_PATTERN}`);
  return undefined;
}

/** The quality name, or undefined after answering 400. */
export function qualityParam({ params, res }: RouteRequest): string | undefined {
  if (isValidQualityName(params.name)) return params.name;
  sendError(res, 400, `Invalid quality name: expected ${QUALITY_NAME_PATTERN}`);
  return undefined;
}

/** The CID, or undefined after answering 400. */
export function cidParam({ params, res }: RouteRequest): string | undefined {
  if (isValidCid(params.cid)) return params.cid;
  sendError(res, 400, 'Invalid CID');
  return undefined;
}
