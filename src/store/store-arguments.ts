// Argument checks shared by the stores, so both reject the same input the same way.
import { CID } from 'multiformats/cid';
import { invalidParameterError, isInteger } from '../errors.js';
import type { ByteRange } from './content-store.js';

export function parseCid(cid: string): CID {
  if (typeof cid !== 'string') throw invalidParameterError('cid', 'CID string', cid);
  try {
    return CID.parse(cid);
  } catch {
    throw invalidParameterError('cid', 'CID string', cid);
  }
}

export function assertBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw invalidParameterError('bytes', 'Uint8Array', bytes);
}

/** An inclusive HTTP-style range as the offset/length pair both stores' cat takes. */
export function toOffsetLength(range: ByteRange | undefined): { offset?: number; length?: number } {
  if (range === undefined) return {};
  if (typeof range !== 'object' || range === null) throw invalidParameterError('range', 'object', range);
  const { start, end } = range;
  if (!isInteger(start) || start < 0) throw invalidParameterError('range.start', 'integer of at least 0', start);
  if (end === undefined) return { offset: start };
  if (!isInteger(end) || end < start) {
    throw invalidParameterError('range.end', `integer of at least range.start (${start})`, end);
  }
  return { offset: start, length: end - start + 1 };
}

export function concatChunks(chunks: Uint8Array[], totalLength: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].byteLength === totalLength) return chunks[0];
  const out = new Uint8Array(totalLength);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Drains a stream of chunks into one array. */
export async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  return concatChunks(chunks, total);
}
