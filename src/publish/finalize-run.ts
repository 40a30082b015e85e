// Ends a run whose publishing process died: its last published playlists have
// no EXT-X-ENDLIST, so players would wait for segments that never come. The
// registry still knows every uploaded segment, so the final playlists can be
// rebuilt from it, exactly as the publisher would have written them on close().
import { AbrcastError, invalidParameterError } from '../errors.js';
import { ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { serializeMasterPlaylist } from '../hls/master-playlist.js';
import { serializeMediaPlaylist, targetDurationFor } from '../hls/media-playlist.js';
import { cidUrlResolver, type CidUrl } from '../hls/segment-url.js';
import type { VariantStream } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import { eventMediaPlaylist, qualityEntry } from './playlist-entries.js';
import type { QualityMap } from './types.js';

/** What finalizeRun reads and writes; RunRegistry fits (kept structural so this layer does not depend on it). */
export interface FinalizableRegistry {
  getRun(id: string): Promise<
    | {
        id: string;
        createdAt: Date;
        status: string;
        fps: number;
        segmentDuration: number;
        qualityPlaylists: QualityMap;
        playlistSequence: number;
      }
    | undefined
  >;
  listSegments(runId: string): Promise<Array<UploadedSegment & { rendition: string }>>;
  publishPlaylists(
    runId: string,
    masterCid: string,
    qualities: QualityMap,
    options?: { sequence?: number },
  ): Promise<{ applied: boolean; sequence: number }>;
  markEnded(runId: string): Promise<void>;
}

export interface FinalizeRunOptions {
  registry: FinalizableRegistry;
  store: Pick<ContentStore, 'add'>;
  runId: string;
  /** Segment URL template or function, as given to MultiResolutionHlsOutput (default `{gateway}/ipfs/{cid}`). */
  segmentUrl?: string | CidUrl;
  /** Media playlist URL inside the master (default `{gateway}/ipfs/{cid}`). */
  playlistUrl?: string | CidUrl;
  /** Gateway origin for `{gateway}` (default https://ipfs.io). */
  gateway?: string;
}

export interface FinalizeRunResult {
  masterCid: string;
  qualities: QualityMap;
}

/** Highest configured bitrate first, then name: the same order on every call. */
function byBitrateDescending([nameA, a]: [string, QualityMap[string]], [nameB, b]: [string, QualityMap[string]]): number {
  return b.bitrate - a.bitrate || b.width * b.height - a.width * a.height || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0);
}

/**
 * Publishes final (ENDLIST) media and master playlists for a live run from the
 * segments the registry recorded, stores them, records them with a sequence
 * above the stored one, and marks the run ended. Each rendition lists its
 * contiguous prefix only: a segment behind a missing one was never playable.
 */
export async function finalizeRun(options: FinalizeRunOptions): Promise<FinalizeRunResult> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const { registry, store, runId } = options;
  const segmentUrl = cidUrlResolver({ gateway: options.gateway, template: options.segmentUrl, optionName: 'segmentUrl' });
  const playlistUrl = cidUrlResolver({ gateway: options.gateway, template: options.playlistUrl, optionName: 'playlistUrl' });

  const run = await registry.getRun(runId);
  if (!run) throw new AbrcastError(`Run ${JSON.stringify(runId)} does not exist`);
  if (run.status !== 'live') throw new AbrcastError(`Run ${JSON.stringify(runId)} is ${run.status}; only a live run can be finalized`);
  // Sizes, bitrates and codecs are only known from a publish; without one there is nothing a player could use.
  const known = Object.entries(run.qualityPlaylists).sort(byBitrateDescending);
  if (known.length === 0) {
    throw new AbrcastError(`Run ${JSON.stringify(runId)} never published playlists, so its renditions are unknown`);
  }

  const byRendition = new Map(known.map(([name]) => [name, new ContiguousSegments()]));
  for (const segment of await registry.listSegments(runId)) {
    // A zero duration cannot be listed; it ends that rendition's prefix like a missing segment.
    if (!(segment.duration > 0)) continue;
    byRendition.get(segment.rendition)?.add({ index: segment.index, cid: segment.cid, duration: segment.duration, bytes: segment.bytes });
  }

  const targetDuration = targetDurationFor(run.segmentDuration);
  const encode = (text: string) => new TextEncoder().encode(text);
  const qualities: QualityMap = {};
  const variants: VariantStream[] = [];
  for (const [name, stored] of known) {
    const listed = byRendition.get(name)!.listed();
    if (listed.length === 0) continue;
    const text = serializeMediaPlaylist(
      eventMediaPlaylist({ targetDuration, segments: listed, segmentUrl, endList: true, startedAt: run.createdAt }),
    );
    const cid = await store.add(encode(text));
    const entry = qualityEntry({
      rendition: { name, width: stored.width, height: stored.height, bitrate: stored.bitrate },
      listed, targetDuration, codecs: stored.codecs, fps: run.fps, cid, uri: playlistUrl(cid), final: true,
    });
    qualities[name] = entry.quality;
    variants.push(entry.variant);
  }
  if (variants.length === 0) throw new AbrcastError(`Run ${JSON.stringify(runId)} has no segment 0 in any rendition`);

  const masterCid = await store.add(encode(serializeMasterPlaylist({ independentSegments: true, variants })));
  const published = await registry.publishPlaylists(runId, masterCid, qualities, { sequence: run.playlistSequence + 1 });
  if (!published.applied) {
    throw new AbrcastError(`Run ${JSON.stringify(runId)} published newer playlists meanwhile; is its publisher still running?`);
  }
  await registry.markEnded(runId);
  return { masterCid, qualities };
}
