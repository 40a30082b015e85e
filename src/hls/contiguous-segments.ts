// Uploads of one rendition finish in any order, but a live playlist may only grow at
// its end (RFC 8216 6.2.1) and must not skip a segment. This keeps what arrived and
// lists only the complete prefix 0..k, so every view extends the previous one.
import { AbrcastError, invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';
import type { ResourceKey } from './types.js';

/** A segment whose bytes are stored: what a playlist entry and the bit rates need. */
export interface UploadedSegment {
  /** Segment number from 0, as emitted by the encoder. */
  index: number;
  cid: string;
  /** Exact duration in seconds. */
  duration: number;
  bytes: number;
  /** Its key and IV, in an encrypted run. */
  key?: ResourceKey;
}

export class ContiguousSegments<S extends UploadedSegment = UploadedSegment> {
  /** Arrived, but behind a missing index. */
  readonly #waiting = new Map<number, S>();
  readonly #listed: S[] = [];
  #snapshot: readonly S[] = Object.freeze([]);
  /** How many listed segments takeNew() has handed out. */
  #taken = 0;

  /**
   * Records an uploaded segment. Returns true when the listed prefix grew.
   * A repeat with the same CID is ignored; a different CID for a known index throws.
   */
  add(segment: S): boolean {
    const { index, cid, duration, bytes } = segment;
    if (!isInteger(index) || index < 0) throw invalidParameterError('index', 'integer of at least 0', index);
    if (typeof cid !== 'string' || cid.length === 0) throw invalidParameterError('cid', 'non-empty string', cid);
    if (!isPositiveFinite(duration)) throw invalidParameterError('duration', 'positive number of seconds', duration);
    if (!isInteger(bytes) || bytes < 0) throw invalidParameterError('bytes', 'integer of at least 0', bytes);

    const known = index < this.#listed.length ? this.#listed[index] : this.#waiting.get(index);
    if (known) {
      if (known.cid === cid) return false;
      throw new AbrcastError(`Segment ${index} was already added with CID ${known.cid}, now ${cid}`);
    }
    this.#waiting.set(index, Object.freeze({ ...segment }));

    const before = this.#listed.length;
    for (let next = this.#waiting.get(before); next; next = this.#waiting.get(this.#listed.length)) {
      this.#waiting.delete(next.index);
      this.#listed.push(next);
    }
    if (this.#listed.length === before) return false;
    this.#snapshot = Object.freeze(this.#listed.slice());
    return true;
  }

  /** Segments 0..listedCount-1, all present. Frozen; a later call returns an extension of it. */
  listed(): readonly S[] {
    return this.#snapshot;
  }

  get listedCount(): number {
    return this.#listed.length;
  }

  /** The index the prefix waits for (equal to listedCount). */
  get firstMissingIndex(): number {
    return this.#listed.length;
  }

  /** Segments that arrived after a gap and are not listed yet. */
  get waitingCount(): number {
    return this.#waiting.size;
  }

  hasNewSinceLastTake(): boolean {
    return this.#taken < this.#listed.length;
  }

  /** The segments listed since the previous takeNew(), in index order. */
  takeNew(): readonly S[] {
    const fresh = this.#snapshot.slice(this.#taken);
    this.#taken = this.#listed.length;
    return Object.freeze(fresh);
  }
}

/**
 * How many segment indices are listed by every rendition: the publisher may
 * publish index k once this exceeds k. 0 for no renditions.
 */
export function commonListedCount(renditions: Iterable<{ readonly listedCount: number }>): number {
  let common: number | undefined;
  for (const rendition of renditions) common = Math.min(common ?? Infinity, rendition.listedCount);
  return common ?? 0;
}
