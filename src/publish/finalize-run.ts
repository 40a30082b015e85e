// Ends a run whose publisher stopped without ending it: crashed (its last
// playlists have no EXT-X-ENDLIST) or failed (ENDLIST on a prefix, segments
// missing). The registry knows every recorded segment, so the final playlists can
// be rebuilt from it, as the publisher would have written them on close(), with
// the run's own start time and URL templates. resumeRun first adds what the
// run's journal holds.
import { AbrcastError, invalidParameterError } from '../errors.js';
import { ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { serializeMasterPlaylist } from '../hls/master-playlist.js';
import { serializeMediaPlaylist, targetDurationFor } from '../hls/media-playlist.js';
import { cidUrlResolver, DEFAULT_KEY_URL_TEMPLATE, keyUrlResolver, type CidUrl } from '../hls/segment-url.js';
import type { VariantStream } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { Rendition } from '../encoder/types.js';
import { eventMediaPlaylist, qualityEntry } from './playlist-entries.js';
import { orderVariants, type VariantStreamRecords } from '../model/variant-stream-record.js';

/** What finalizeRun reads and writes; RunRegistry fits (kept structural so this layer does not depend on it). */
export interface FinalizableRegistry {
  getRun(id: string): Promise<
    | {
        id: string;
        createdAt: Date;
        status: string;
        fps: number;
        segmentDuration: number;
        qualityPlaylists: VariantStreamRecords;
        playlistSequence: number;
        masterCid?: string | null;
        /** Stored by registries that know them (see NewRun); older runs lack them. */
        startedAt?: Date | null;
        segmentUrl?: string | null;
        playlistUrl?: string | null;
        /** An encrypted run's settings (registries with private runs). */
        encryption?: string | null;
        keyRotation?: number | null;
        keyUrl?: string | null;
      }
    | undefined
  >;
  /** Init segment CIDs by rendition (fMP4 runs). */
  getInitSegments?(runId: string): Promise<Record<string, string>>;
  listSegments(runId: string): Promise<Array<UploadedSegment & { rendition: string }>>;
  publishPlaylists(
    runId: string,
    masterCid: string,
    qualities: VariantStreamRecords,
    options?: { sequence?: number },
  ): Promise<{ applied: boolean; sequence: number }>;
  markEnded(runId: string): Promise<void>;
}

export type FinalizeStore = Pick<ContentStore, 'add' | 'cat'> & Partial<Pick<ContentStore, 'releaseVersion'>>;

export interface FinalizeRunOptions {
  registry: FinalizableRegistry;
  store: FinalizeStore;
  runId: string;
  /** Segment URL template or function; default: the run's stored template, else `/ipfs/{cid}`. */
  segmentUrl?: string | CidUrl;
  /** Media playlist URL inside the master; default: the run's stored template, else `/ipfs/{cid}`. */
  playlistUrl?: string | CidUrl;
  /** Gateway origin for `{gateway}` (default https://ipfs.io). */
  gateway?: string;
  /** What the run's journal knows, for a run the registry lacks it for (crashed before its first publish, or an older registry). */
  journal?: {
    startedAt?: Date;
    segmentUrl?: string;
    playlistUrl?: string;
    renditions?: Array<Rendition & { codecs: string }>;
  };
}

export interface FinalizeRunResult {
  masterCid: string;
  qualities: VariantStreamRecords;
}

/**
 * Publishes final (ENDLIST) media and master playlists for a live run from the
 * segments the registry recorded, stores them, records them with a sequence
 * above the stored one, and marks the run ended. Each rendition lists its
 * contiguous prefix only: a segment behind a missing one was never playable.
 */
export async function finalizeRun(options: FinalizeRunOptions): Promise<FinalizeRunResult> {
  if (typeof options !== 'object' || options === null) throw invalidParameterError('options', 'object', options);
  const { registry, store, runId, journal = {} } = options;

  const run = await registry.getRun(runId);
  if (!run) throw new AbrcastError(`Run ${JSON.stringify(runId)} does not exist`);
  if (run.status === 'ended') {
    throw new AbrcastError(`Run ${JSON.stringify(runId)} is ended; only a live or failed run can be finalized`);
  }
  const template = (given: string | CidUrl | undefined, stored: string | null | undefined, journaled: string | undefined) =>
    given ?? stored ?? journaled ?? '/ipfs/{cid}';
  const segmentUrl = cidUrlResolver({
    gateway: options.gateway, template: template(options.segmentUrl, run.segmentUrl, journal.segmentUrl), optionName: 'segmentUrl',
  });
  const playlistUrl = cidUrlResolver({
    gateway: options.gateway, template: template(options.playlistUrl, run.playlistUrl, journal.playlistUrl), optionName: 'playlistUrl',
  });
  const startTime = run.startedAt ?? journal.startedAt ?? run.createdAt;
  // An encrypted run's segments name their keys (recorded with them) at the run's key URIs.
  const keyUrl = run.encryption ? keyUrlResolver(run.keyUrl ?? DEFAULT_KEY_URL_TEMPLATE) : undefined;
  const keyUri = keyUrl ? (index: number) => keyUrl(runId, index) : undefined;
  // Sizes, bitrates and codecs come from a publish, or from the journal; without either nothing could play.
  const known: [string, { width: number; height: number; bitrate: number; codecs: string; cid?: string }][] =
    orderVariants(run.qualityPlaylists);
  if (known.length === 0) {
    for (const rendition of journal.renditions ?? []) known.push([rendition.name, rendition]);
  }
  if (known.length === 0) {
    throw new AbrcastError(`Run ${JSON.stringify(runId)} never published playlists and has no journal, so its renditions are unknown`);
  }

  const byRendition = new Map(known.map(([name]) => [name, new ContiguousSegments()]));
  for (const segment of await registry.listSegments(runId)) {
    // A zero duration cannot be listed; it ends that rendition's prefix like a missing segment.
    if (!(segment.duration > 0)) continue;
    byRendition.get(segment.rendition)?.add({
      index: segment.index, cid: segment.cid, duration: segment.duration, bytes: segment.bytes, ...(segment.key ? { key: segment.key } : {}),
    });
  }

  const targetDuration = targetDurationFor(run.segmentDuration);
  const encode = (text: string) => new TextEncoder().encode(text);
  const qualities: VariantStreamRecords = {};
  const variants: VariantStream[] = [];
  for (const [name, stored] of known) {
    const listed = byRendition.get(name)!.listed();
    if (stored.cid) {
      // RFC 8216 6.2.1: a published playlist may only grow. A hole in the registry must not shorten it.
      const published = countSegments(new TextDecoder().decode(await store.cat(stored.cid)));
      if (listed.length < published) {
        throw new AbrcastError(
          `Run ${JSON.stringify(runId)}: the registry lists ${listed.length} contiguous segment(s) of ${name}, but a ` +
            `published playlist already listed ${published}; finalizing would shorten it (resume from the run's journal records the rest)`,
        );
      }
    }
    if (listed.length === 0) continue;
    const text = serializeMediaPlaylist(
      eventMediaPlaylist({
        targetDuration, segments: listed, segmentUrl, endList: true, startedAt: startTime, segmentDuration: run.segmentDuration, ...(keyUri ? { keyUri } : {}),
      }),
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
  // The versions the registry named before are superseded (linear storage, as while live).
  const superseded = [run.masterCid, ...known.map(([, stored]) => stored.cid)];
  const kept = new Set([masterCid, ...Object.values(qualities).map((quality) => quality.cid)]);
  for (const cid of superseded) {
    if (cid && !kept.has(cid)) await store.releaseVersion?.(cid).catch(() => undefined);
  }
  return { masterCid, qualities };
}

/** Media segments in a media playlist's text: one EXTINF each. */
function countSegments(text: string): number {
  return text.match(/^#EXTINF:/gm)?.length ?? 0;
}
