// URLs for content by CID (segments, media playlists), from a gateway template or a
// user function. Checked once when built, so a bad option fails at startup, not mid-run.
import { invalidParameterError } from '../errors.js';

export type CidUrl = (cid: string) => string;

export const DEFAULT_GATEWAY = 'https://ipfs.io';
export const DEFAULT_URL_TEMPLATE = '{gateway}/ipfs/{cid}';

/**
 * What the default segment URL templates end with: the IPFS path gateway's `filename`
 * parameter (https://specs.ipfs.tech/http-gateways/path-gateway/#filename-request-query-parameter)
 * naming a file of the container's type. FFmpeg's HLS demuxer (Debian's 5.1 and later) refuses a
 * segment URL without a media file extension ("URL ... is not in allowed_segment_extensions"),
 * and /ipfs/{cid} has none; gateways (this server's, Kubo's, ipfs.io) serve the same bytes with
 * it. fMP4 segments and their init segment say .mp4: newer FFmpeg also checks the extension
 * against the demuxer it detected, and its mp4 demuxer lists mp4, not m4s.
 */
export function segmentFileName(container: 'ts' | 'fmp4'): string {
  return gatewayFileName(`segment.${container === 'fmp4' ? 'mp4' : 'ts'}`);
}

/** The gateway's `filename` parameter for a file of another kind (a WebVTT segment, a JPEG thumbnail): its type follows the name. */
export function gatewayFileName(fileName: string): string {
  return `?filename=${fileName}`;
}

export interface CidUrlOptions {
  /** Gateway origin (optionally with a path prefix) put in for `{gateway}`; default https://ipfs.io. */
  gateway?: string;
  /**
   * A template with `{cid}` and optionally `{gateway}`: absolute
   * (`https://gw.example/ipfs-ts/{cid}`) or relative (`/ipfs/{cid}`); or a function of the CID.
   */
  template?: string | CidUrl;
  /** The option name that error messages use for `template` (default 'urlTemplate'). */
  optionName?: string;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN_PLACEHOLDERS = new Set(['cid', 'gateway']);
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/**
 * What a CID looks like before anything parses it: multibase CIDs the stores
 * hand out (base32, base36, base58btc) are letters and digits only, so they
 * need no escaping in a URL or a path; the bound keeps parsing cheap.
 */
export const CID_SHAPE = /^[A-Za-z0-9]{8,128}$/;
const SAMPLE_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

function checkGateway(gateway: unknown): string {
  const expected = 'http(s) URL such as https://ipfs.io';
  if (typeof gateway !== 'string') throw invalidParameterError('gateway', expected, gateway);
  const trimmed = gateway.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalidParameterError('gateway', expected, gateway);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || /\s/.test(trimmed)) {
    throw invalidParameterError('gateway', expected, gateway);
  }
  // The Python original took 'https://ipfs.io/ipfs'; here the template adds the path.
  if (/\/ipfs(-ts)?$/i.test(url.pathname)) {
    throw invalidParameterError('gateway', 'gateway origin without the /ipfs path, such as https://ipfs.io', gateway);
  }
  return trimmed;
}

/** An expanded URL is an absolute http(s) URL or a relative reference, without whitespace. */
function isUsableUrl(url: string): boolean {
  if (url.length === 0 || /\s/.test(url)) return false;
  try {
    if (SCHEME.test(url)) {
      const protocol = new URL(url).protocol;
      return protocol === 'http:' || protocol === 'https:';
    }
    new URL(url, 'http://base.invalid/');
    return true;
  } catch {
    return false;
  }
}

function checkCid(cid: unknown): string {
  if (typeof cid !== 'string' || !CID_SHAPE.test(cid)) {
    throw invalidParameterError('cid', 'CID string of 8 to 128 letters and digits', cid);
  }
  return cid;
}

/** Builds the function that turns a CID into the URL written in playlists. */
export function cidUrlResolver(options: CidUrlOptions = {}): CidUrl {
  const { template = DEFAULT_URL_TEMPLATE, optionName = 'urlTemplate' } = options;
  const gateway = options.gateway === undefined ? undefined : checkGateway(options.gateway);

  if (typeof template === 'function') {
    return (cid) => {
      const url = template(checkCid(cid));
      if (typeof url !== 'string' || !isUsableUrl(url)) {
        throw invalidParameterError(optionName, 'function returning an http(s) or relative URL without whitespace', url);
      }
      return url;
    };
  }

  const expectedTemplate = 'string containing {cid} (and optionally {gateway}) or a function of the CID';
  if (typeof template !== 'string' || !template.includes('{cid}')) {
    throw invalidParameterError(optionName, expectedTemplate, template);
  }
  const placeholders = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
  if (placeholders.some((name) => !KNOWN_PLACEHOLDERS.has(name)) || /[{}]/.test(template.replace(PLACEHOLDER, ''))) {
    throw invalidParameterError(optionName, `${expectedTemplate}, with no other {placeholders}`, template);
  }
  const gatewayValue = placeholders.includes('gateway') ? (gateway ?? DEFAULT_GATEWAY) : '';
  const expand = (cid: string) => template.replace(PLACEHOLDER, (_, name: string) => (name === 'cid' ? cid : gatewayValue));
  if (!isUsableUrl(expand(SAMPLE_CID))) {
    throw invalidParameterError(optionName, `${expectedTemplate} that expands to an http(s) or relative URL`, template);
  }
  return (cid) => expand(checkCid(cid));
}

/** A key URI from the run and the key's number (EXT-X-KEY URI=). */
export type KeyUrl = (runId: string, index: number) => string;

/** Where players fetch an encrypted run's keys: the server's key route, resolved against the playlist's server. */
export const DEFAULT_KEY_URL_TEMPLATE = '/runs/{run}/keys/{key}';

/**
 * Builds the function that writes an encrypted run's key URIs from a template with
 * `{run}` and `{key}` (absolute, e.g. `https://play.example.com/runs/{run}/keys/{key}`
 * when the playlists are read through a public gateway, or root-relative).
 */
export function keyUrlResolver(template: unknown = DEFAULT_KEY_URL_TEMPLATE, optionName = 'keyUrl'): KeyUrl {
  const expected = 'string containing {run} and {key}, expanding to an http(s) or root-relative URL';
  if (typeof template !== 'string' || !template.includes('{run}') || !template.includes('{key}')) {
    throw invalidParameterError(optionName, expected, template);
  }
  const placeholders = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
  if (placeholders.some((name) => name !== 'run' && name !== 'key') || /[{}]/.test(template.replace(PLACEHOLDER, ''))) {
    throw invalidParameterError(optionName, `${expected}, with no other {placeholders}`, template);
  }
  const expand = (runId: string, index: number) => template.replace(PLACEHOLDER, (_, name: string) => (name === 'run' ? runId : String(index)));
  if (!isUsableUrl(expand('rsample', 0)) || /["\r\n]/.test(template)) throw invalidParameterError(optionName, expected, template);
  return expand;
}
