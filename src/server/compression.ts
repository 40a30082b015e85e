// Content negotiation for gzip (RFC 9110 12.5.3): a live media playlist grows
// by one line per segment and is re-fetched every target duration, so after
// hours it is most of a viewer's non-video traffic; it compresses ~10x.
import type { HttpRequest } from './router.js';

/** True when Accept-Encoding lists gzip (or *) with a non-zero q-value. */
export function acceptsGzip(req: HttpRequest): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  let wildcard = false;
  for (const part of header.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') return accepted;
    if (coding.trim() === '*') wildcard = accepted;
  }
  return wildcard;
}
