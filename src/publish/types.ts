// Shapes the publisher hands its callers. What it shares with the registry
// (the run's inputs, RunRecorder, the variant stream records) lives in src/model.
import type { ArchiveInput } from '../model/run-inputs.js';
import type { RunTracks } from '../model/run-tracks.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';

/** One published version of the stream's playlists. */
export interface PublishedVersion {
  /** 1 for the first publish, then +1 each time. */
  sequence: number;
  final: boolean;
  masterCid: string;
  masterText: string;
  qualities: VariantStreamRecords;
  /** Subtitle, I-frame and image playlists of this version (with captions, thumbnails or I-frames). */
  tracks?: RunTracks;
  /** Media playlists of this version, by rendition (unchanged ones included). */
  media: Record<string, { cid: string; text: string; segmentCount: number }>;
}

/**
 * One archive chunk of a windowed run: immutable VOD playlists (one per rendition, and
 * a master naming them) of the segments with MSN firstMsn .. firstMsn+segmentCount-1;
 * media names each rendition's VOD playlist CID and how many segments it lists.
 */
export type ArchivedChunk = ArchiveInput;
