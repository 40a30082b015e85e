// A local read-only gateway over the store, so segments play from this server
// (segmentUrl '/ipfs/{cid}') without a public gateway. Content under a CID never
// changes, hence immutable caching and ETag = CID; Range is what players and
// seeking need.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnreadableContentError, type ByteRange, type ContentStore } from '../../store/content-store.js';
import rangeParser from 'range-parser';
import { IMMUTABLE, MPEGURL, isNotModified, sendError } from '../responses.js';
import type { Route, RouteRequest } from '../router.js';
import { cidParam } from '../validation.js';

export type RangeAnswer = Required<ByteRange> | 'unsatisfiable' | undefined;

/** RFC 9110 14.1.1's byte range-set, spaces allowed after commas: anything else is not a Range we parse. */
const BYTE_RANGE_SET = /^bytes=\s*(\d+-\d*|-\d+)(\s*,\s*(\d+-\d*|-\d+))*\s*$/;

/**
 * The Range header against a file of `size` bytes (RFC 9110 14). range-parser
 * resolves suffix and open ranges and merges overlapping ones; the syntax check
 * before it is ours because range-parser 1.x (2.x needs Node 22) answers
 * "unsatisfiable" for malformed headers and reversed ranges, which RFC 9110 says
 * to ignore. Undefined means serve the whole file: no header, another unit,
 * bad syntax, or ranges that stay several after merging (no multipart answers).
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined || !BYTE_RANGE_SET.test(header)) return undefined;
  const specs = header.slice('bytes='.length).split(',').map((spec) => spec.trim());
  const reversed = specs.some((spec) => {
    const [first, last] = spec.split('-');
    return first !== '' && last !== '' && Number(first) > Number(last);
  });
  if (reversed) return undefined;
  // RFC 9110 14.1.2: a suffix longer than the representation selects all of it
  // (range-parser 1.x calls it unsatisfiable); a zero-length one stays unsatisfiable.
  const resolved = specs.map((spec) => (/^-\d+$/.test(spec) && Number(spec.slice(1)) > size && size > 0 ? '0-' : spec));
  const ranges = rangeParser(size, `bytes=${resolved.join(',')}`, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2 || ranges.length !== 1) return undefined;
  return { start: ranges[0].start, end: ranges[0].end };
}

const TS_SYNC_BYTE = 0x47;
const EXTM3U = new TextEncoder().encode('#EXTM3U');
const WEBVTT = new TextEncoder().encode('WEBVTT');
/** JPEG's SOI marker and the first byte of the next one (thumbnails). */
const JPEG = Uint8Array.of(0xff, 0xd8, 0xff);
const startsWith = (head: Uint8Array, magic: Uint8Array) => magic.every((byte, i) => head[i] === byte);

/** Content types by CID: the bytes behind a CID never change, so one sniff per CID is enough. */
const sniffed = new Map<string, string>();
const MAX_SNIFFED = 4096;

async function contentType(store: ContentStore, cid: string, size: number): Promise<string> {
  const known = sniffed.get(cid);
  if (known) return known;
  let head = new Uint8Array(0);
  if (size > 0) {
    for await (const chunk of store.catStream(cid, { start: 0, end: Math.min(size, EXTM3U.length) - 1 })) {
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      head = joined;
    }
  }
  // An <img> needs its image type; a <track> its WebVTT one.
  const type = startsWith(head, EXTM3U)
    ? MPEGURL
    : head[0] === TS_SYNC_BYTE
      ? 'video/mp2t'
      : startsWith(head, JPEG)
        ? 'image/jpeg'
        : startsWith(head, WEBVTT)
          ? 'text/vtt; charset=utf-8'
          : 'application/octet-stream';
  if (sniffed.size >= MAX_SNIFFED) sniffed.delete(sniffed.keys().next().value!);
  sniffed.set(cid, type);
  return type;
}

async function serveCid(request: RouteRequest): Promise<void> {
  const cid = cidParam(request);
  if (cid === undefined) return;
  const { req, res } = request;
  const { store } = request.server;
  if (!(await store.has(cid))) return sendError(res, 404, `${cid} is not in this server's store`);
  let size: number;
  let type: string;
  try {
    size = await store.size(cid);
    type = await contentType(store, cid, size);
  } catch (error) {
    // The block is there but is no file (a hash relabelled as dag-pb, a directory): nothing to serve under this CID.
    if (error instanceof UnreadableContentError) return sendError(res, 404, `${cid} names no file in this server's store`);
    throw error;
  }
  const etag = `"${cid}"`;
  const headers: Record<string, string> = {
    'Content-Type': type,
    'Cache-Control': IMMUTABLE,
    ETag: etag,
    'Accept-Ranges': 'bytes',
  };
  if (isNotModified(req, etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  // If-Range (RFC 9110 13.1.5): the range holds only for this strong ETag; a date never matches (there is no Last-Modified).
  const ifRange = req.headers['if-range'];
  const range = ifRange === undefined || ifRange === etag ? parseRange(req.headers.range, size) : undefined;
  if (range === 'unsatisfiable') {
    return sendError(res, 416, `Range not satisfiable for ${size} bytes`, { 'Content-Range': `bytes */${size}` });
  }
  const length = range ? range.end - range.start + 1 : size;
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  headers['Content-Length'] = String(length);
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  // pipeline stops reading the store when the client goes away.
  await pipeline(Readable.from(store.catStream(cid, range)), res);
}

export const gatewayRoutes: Route[] = [
  { pattern: '/ipfs/:cid', handler: serveCid, cors: true },
  { pattern: '/ipfs-ts/:cid', handler: serveCid, cors: true },
];
