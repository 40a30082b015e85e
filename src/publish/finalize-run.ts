// Ends a run whose publisher stopped without ending it: crashed (its last
// playlists have no EXT-X-ENDLIST) or failed (ENDLIST on a prefix, segments
// missing). The registry knows every recorded segment, so the final playlists can
// be rebuilt from it, as the publisher would have written them on close(), with
// the run's own start time, URL templates and init segments; a windowed or
// channel run gets the VOD playlists of every segment, numbered from its first
// Media Sequence Number. resumeRun first adds what the run's journal holds; the
// stale-run sweeper ends a run this way as failed.
import { AbrcastError, invalidParameterError } from '../errors.js';
import { ContiguousSegments, type UploadedSegment } from '../hls/contiguous-segments.js';
import { serializeMasterPlaylist } from '../hls/master-playlist.js';
import { serializeMediaPlaylist, targetDurationFor } from '../hls/media-playlist.js';
import { parseMediaPlaylist } from '../hls/parse-media-playlist.js';
import { cidUrlResolver, DEFAULT_KEY_URL_TEMPLATE, keyUrlResolver, type CidUrl } from '../hls/segment-url.js';
import type { ResourceKey, VariantStream } from '../hls/types.js';
import type { ContentStore } from '../store/content-store.js';
import type { Rendition } from '../encoder/types.js';
import { eventMediaPlaylist, qualityEntry, segmentKey, timelineMediaPlaylist, type TimelineSegment } from './playlist-entries.js';
import type { MissingSegment } from '../model/run-inputs.js';
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
        /** Schema 5 (older registries lack them): MSN of segment 0, its discontinuity sequence, the window. */
        msnBase?: number;
        discontinuitySequence?: number;
        windowSeconds?: number | null;
        /** An encrypted run's settings (registries with private runs). */
        encryption?: string | null;
        keyRotation?: number | null;
        keyUrl?: string | null;
      }
    | undefined
  >;
  /** Segments by rendition; `index` is the segment's Media Sequence Number (msnBase + its index in the run). */
  listSegments(runId: string): Promise<Array<UploadedSegment & { rendition: string }>>;
  /** fMP4 init segment CIDs by rendition (EXT-X-MAP); a registry without it finalizes TS runs only. */
  getInitSegments?(runId: string): Promise<Record<string, string>>;
  /** The keys of an encrypted run's init segments, by rendition. */
  getInitSegmentKeys?(runId: string): Promise<Record<string, ResourceKey>>;
  markFailed?(runId: string, error: string, missing?: MissingSegment[]): Promise<void>;
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
  /**
   * End the run as failed with this error and these missing segments (by MSN) instead of
   * ended: the stale-run sweeper, or a resume that could not read every journaled segment.
   */
  failure?: { error: string; missing: MissingSegment[] };
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

  const msnBase = run.msnBase ?? 0;
  const discontinuitySequence = run.discontinuitySequence ?? 0;
  // A windowed or channel run ends as VOD numbered from its first MSN; any other keeps its EVENT form.
  const timeline = (run.windowSeconds ?? null) !== null || msnBase > 0 || discontinuitySequence > 0;
  const byRendition = new Map(known.map(([name]) => [name, new ContiguousSegments()]));
  for (const segment of await registry.listSegments(runId)) {
    // A zero duration cannot be listed; it ends that rendition's prefix like a missing segment.
    if (!(segment.duration > 0) || segment.index < msnBase) continue;
    byRendition.get(segment.rendition)?.add({
      index: segment.index - msnBase, cid: segment.cid, duration: segment.duration, bytes: segment.bytes, ...(segment.key ? { key: segment.key } : {}),
    });
  }
  const inits = (await registry.getInitSegments?.(runId)) ?? {};
  const initKeys = run.encryption ? ((await registry.getInitSegmentKeys?.(runId)) ?? {}) : {};

  const targetDuration = targetDurationFor(run.segmentDuration);
  const encode = (text: string) => new TextEncoder().encode(text);
  const qualities: VariantStreamRecords = {};
  const variants: VariantStream[] = [];
  for (const [name, stored] of known) {
    const listed = byRendition.get(name)!.listed();
    if (stored.cid) {
      // RFC 8216 6.2.1: a published playlist may only grow. A hole in the registry must not shorten it.
      const published = lastListedMsn(new TextDecoder().decode(await store.cat(stored.cid)));
      const last = msnBase + listed.length - 1;
      if (published !== undefined && last < published) {
        throw new AbrcastError(
          `Run ${JSON.stringify(runId)}: the registry lists segments of ${name} up to media sequence ${last}, but a ` +
            `published playlist already listed ${published}; finalizing would shorten it (resume from the run's journal records the rest)`,
        );
      }
    }
    if (listed.length === 0) continue;
    const mapUri = inits[name] !== undefined ? segmentUrl(inits[name]) : undefined;
    const mapKey = mapUri !== undefined ? initKeys[name] : undefined;
    let playlist;
    if (timeline) {
      let seconds = 0;
      const mapSegmentKey = mapKey ? segmentKey(mapKey, keyUri) : undefined;
      const segments = listed.map((segment): TimelineSegment => {
        const entry = {
          msn: msnBase + segment.index, duration: segment.duration, uri: segmentUrl(segment.cid),
          startMs: startTime.getTime() + seconds * 1000, discontinuity: segment.index === 0 && discontinuitySequence > 0,
          discontinuitySequence, ...(mapUri !== undefined ? { mapUri } : {}), ...(mapSegmentKey ? { mapKey: mapSegmentKey } : {}),
          ...(segment.key ? { key: segmentKey(segment.key, keyUri) } : {}),
        };
        seconds += segment.duration;
        return entry;
      });
      playlist = timelineMediaPlaylist({ targetDuration, segments, type: 'vod', endList: true, alwaysDiscontinuitySequence: discontinuitySequence > 0 });
    } else {
      playlist = eventMediaPlaylist({
        targetDuration, segments: listed, segmentUrl, endList: true, startedAt: startTime, segmentDuration: run.segmentDuration,
        ...(mapUri !== undefined ? { mapUri } : {}), ...(mapKey ? { mapKey } : {}), ...(keyUri ? { keyUri } : {}),
      });
    }
    const text = serializeMediaPlaylist(playlist);
    const cid = await store.add(encode(text));
    const entry = qualityEntry({
      rendition: { name, width: stored.width, height: stored.height, bitrate: stored.bitrate },
      listed, targetDuration, codecs: stored.codecs, fps: run.fps, cid, uri: playlistUrl(cid), final: true,
    });
    qualities[name] = entry.quality;
    variants.push(entry.variant);
  }
  if (variants.length === 0) throw new AbrcastError(`Run ${JSON.stringify(runId)} has no segment ${msnBase} in any rendition`);

  const masterCid = await store.add(encode(serializeMasterPlaylist({ independentSegments: true, variants })));
  const published = await registry.publishPlaylists(runId, masterCid, qualities, { sequence: run.playlistSequence + 1 });
  if (!published.applied) {
    throw new AbrcastError(`Run ${JSON.stringify(runId)} published newer playlists meanwhile; is its publisher still running?`);
  }
  if (options.failure) {
    if (!registry.markFailed) throw new AbrcastError('This registry cannot mark a run failed');
    await registry.markFailed(runId, options.failure.error, options.failure.missing);
  } else {
    await registry.markEnded(runId);
  }
  // The versions the registry named before are superseded (linear storage, as while live).
  const superseded = [run.masterCid, ...known.map(([, stored]) => stored.cid)];
  const kept = new Set([masterCid, ...Object.values(qualities).map((quality) => quality.cid)]);
  for (const cid of superseded) {
    if (cid && !kept.has(cid)) await store.releaseVersion?.(cid).catch(() => undefined);
  }
  return { masterCid, qualities };
}

/** The Media Sequence Number of the last segment a published media playlist lists; undefined when it lists none. */
function lastListedMsn(text: string): number | undefined {
  let playlist;
  try {
    playlist = parseMediaPlaylist(text);
  } catch {
    // Not a playlist abrcast wrote (an older form, or something else under that CID): its EXTINF lines from MSN 0.
    const count = text.match(/^#EXTINF:/gm)?.length ?? 0;
    return count === 0 ? undefined : count - 1;
  }
  return playlist.segments.length === 0 ? undefined : playlist.mediaSequence + playlist.segments.length - 1;
}
