// Path parameters checked before anything touches the database or the store.
import { CID } from 'multiformats/cid';
import { CID_SHAPE } from '../hls/segment-url.js';
import { isValidQualityName, isValidRunId, QUALITY_NAME_PATTERN, RUN_ID_PATTERN } from '../registry/validation.js';
import { sendError } from './responses.js';
import type { RouteRequest } from './router.js';

/** Multicodecs of a file a store adds: raw (one block) and dag-pb (UnixFS; every CIDv0). */
const FILE_CODECS = new Set([0x55, 0x70]);

/** The CID, parsed; undefined when it is not one. */
function parseCid(value: string): CID | undefined {
  if (!CID_SHAPE.test(value)) return undefined;
  try {
    return CID.parse(value);
  } catch {
    return undefined;
  }
}

export function isValidCid(value: string): boolean {
  return parseCid(value) !== undefined;
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

/** The CID of a file (raw or dag-pb), or undefined after answering 400. */
export function cidParam({ params, res }: RouteRequest): string | undefined {
  const cid = parseCid(params.cid);
  if (cid === undefined) sendError(res, 400, 'Invalid CID');
  else if (!FILE_CODECS.has(cid.code)) sendError(res, 400, `CID codec 0x${cid.code.toString(16)} names no file: expected raw (0x55) or dag-pb (0x70)`);
  else return params.cid;
  return undefined;
}
