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
  /** Listed segments still held: indexes #dropped.. (forget() lets a sliding window drop older ones). */
  #listed: S[] = [];
  /** Listed segments forgotten (the lowest held index). */
  #dropped = 0;
  /** listed(), built on demand: a publish per segment must not copy the whole run per segment. */
  #snapshot: readonly S[] | undefined = Object.freeze([]);
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

    if (index < this.#dropped) {
      // Forgotten: its CID cannot be compared any more, but it was listed, so this is a repeat.
      return false;
    }
    const known = index < this.listedCount ? this.#listed[index - this.#dropped] : this.#waiting.get(index);
    if (known) {
      if (known.cid === cid) return false;
      throw new AbrcastError(`Segment ${index} was already added with CID ${known.cid}, now ${cid}`);
    }
    this.#waiting.set(index, Object.freeze({ ...segment }));

    const before = this.listedCount;
    for (let next = this.#waiting.get(before); next; next = this.#waiting.get(this.listedCount)) {
      this.#waiting.delete(next.index);
      this.#listed.push(next);
    }
    if (this.listedCount === before) return false;
    this.#snapshot = undefined;
    return true;
  }

  /**
   * The listed segments still held: 0..listedCount-1, or from the first one not
   * forgotten. Frozen; a later call returns an extension of it (until forget()).
   */
  listed(): readonly S[] {
    this.#snapshot ??= Object.freeze(this.#listed.slice());
    return this.#snapshot;
  }

  /** Every segment listed so far, forgotten ones included. */
  get listedCount(): number {
    return this.#dropped + this.#listed.length;
  }

  /** The lowest index still held (0 until forget()). */
  get firstHeldIndex(): number {
    return this.#dropped;
  }

  /** The listed segment `index`, while held. */
  get(index: number): S | undefined {
    return index >= this.#dropped ? this.#listed[index - this.#dropped] : undefined;
  }

  /**
   * Drops listed segments below `index` from memory (a sliding window that published
   * them elsewhere); they stay counted, and a repeat of one is ignored.
   */
  forget(index: number): void {
    const count = Math.min(index, this.#taken, this.listedCount) - this.#dropped;
    if (count <= 0) return;
    this.#listed = this.#listed.slice(count);
    this.#dropped += count;
    this.#snapshot = undefined;
  }

  /** The index the prefix waits for (equal to listedCount). */
  get firstMissingIndex(): number {
    return this.listedCount;
  }

  /** Segments that arrived after a gap and are not listed yet. */
  get waitingCount(): number {
    return this.#waiting.size;
  }

  hasNewSinceLastTake(): boolean {
    return this.#taken < this.listedCount;
  }

  /** The segments listed since the previous takeNew(), in index order. */
  takeNew(): readonly S[] {
    const fresh = this.#listed.slice(this.#taken - this.#dropped);
    this.#taken = this.listedCount;
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
