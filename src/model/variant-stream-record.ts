// A variant stream (RFC 8216 4.3.4.2) as a run records it. The publisher makes
// these, the registry stores them, the server serves masters from them: one
// model, owned here below all three. The STREAM-INF attributes keep the
// meaning (and the docs) they have in the playlist model, VariantStream.
import type { Resolution, VariantStream } from '../hls/types.js';

/** One rendition's variant stream: its STREAM-INF attributes, configured bitrate, and the CID of its newest Media Playlist. */
export interface VariantStreamRecord extends Resolution, Pick<VariantStream, 'bandwidth' | 'codecs' | 'frameRate'> {
  /** CID of the rendition's newest Media Playlist. */
  cid: string;
  /** Configured bitrate, kbit/s: fixed for the whole run, unlike the measured BANDWIDTH. */
  bitrate: number;
  /** AVERAGE-BANDWIDTH, bits/s (BANDWIDTH until segments were measured). */
  averageBandwidth: number;
}

/** The variant streams of one run, by rendition name. */
export type VariantStreamRecords = Record<string, VariantStreamRecord>;

type Orderable = Pick<VariantStreamRecord, 'bitrate' | 'width' | 'height'>;

/**
 * Highest configured bitrate first, then larger picture, then name. Configured
 * values never change during a run (measured BANDWIDTH does), and the registry's
 * JSONB column does not keep key order, so this is what keeps the order stable.
 */
export function orderVariants<T extends Orderable>(variants: Record<string, T>): [string, T][] {
  return Object.entries(variants).sort(
    ([nameA, a], [nameB, b]) =>
      b.bitrate - a.bitrate || b.width * b.height - a.width * a.height || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0),
  );
}
