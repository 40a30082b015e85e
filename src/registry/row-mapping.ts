// How the registry's rows become records: the column lists its queries read,
// the row shapes pg and PGlite return, and the mapping to RunRecord and friends.
import type { ResourceKey } from '../hls/types.js';
import type { MissingSegment, RunEncryption } from '../model/run-inputs.js';
import type { RunTracks } from '../model/run-tracks.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import type { ArchiveRecord, PartRecord, RunRecord, RunStatus, SegmentCount, SegmentRecord } from './run-records.js';

// The counts come from segment_counts (one row per rendition), never from segments.
export const RUN_COLUMNS = `id, created_at, updated_at, status, width, height, fps, segment_duration,
  master_cid, quality_playlists, playlist_seq, error, started_at, segment_url, playlist_url, missing, part_target,
  msn_base, discontinuity_sequence, window_seconds, channel, previous_run_id, heartbeat_at,
  encryption, key_rotation, key_url, tracks,
  (SELECT coalesce(jsonb_object_agg(c.rendition, jsonb_build_object('recorded', c.recorded, 'contiguous', c.contiguous)), '{}'::jsonb)
   FROM segment_counts c WHERE c.run_id = runs.id) AS segment_counts`;
export const SEGMENT_COLUMNS = 'run_id, rendition, idx, cid, duration, bytes, created_at, key_idx, iv';
export const PART_COLUMNS = 'run_id, rendition, segment_idx, part_idx, cid, duration, independent, bytes, key_idx, iv';

export interface RunRow {
  id: string;
  created_at: Date | string;
  updated_at: Date | string;
  status: RunStatus;
  width: number;
  height: number;
  fps: number;
  segment_duration: number;
  master_cid: string | null;
  quality_playlists: VariantStreamRecords | string;
  // pg returns bigint as a string, PGlite as a number.
  playlist_seq: number | string | bigint;
  error: string | null;
  started_at: Date | string | null;
  segment_url: string | null;
  playlist_url: string | null;
  missing: MissingSegment[] | string;
  segment_counts: Record<string, SegmentCount> | string;
  part_target: number | null;
  msn_base: number | string;
  discontinuity_sequence: number;
  window_seconds: number | null;
  channel: string | null;
  previous_run_id: string | null;
  heartbeat_at: Date | string | null;
  encryption: RunEncryption | null;
  key_rotation: number | null;
  key_url: string | null;
  tracks: RunTracks | string;
}

export const ARCHIVE_COLUMNS = 'run_id, first_msn, segment_count, duration, started_at, master_cid, media';

export interface ArchiveRow {
  run_id: string;
  first_msn: number | string;
  segment_count: number;
  duration: number;
  started_at: Date | string;
  master_cid: string;
  media: Record<string, { cid: string; segmentCount: number }> | string;
}

export function toArchiveRecord(row: ArchiveRow): ArchiveRecord {
  return {
    runId: row.run_id,
    firstMsn: Number(row.first_msn),
    segmentCount: row.segment_count,
    duration: Number(row.duration),
    startedAt: toDate(row.started_at),
    masterCid: row.master_cid,
    media: fromJson(row.media),
  };
}

/** The key columns of a segment, part or init segment row. */
export interface KeyColumns {
  key_idx: number | null;
  iv: string | null;
}

/** A resource's key reference from its row; absent when the resource is clear. */
export function toResourceKey(row: KeyColumns): { key?: ResourceKey } {
  return row.key_idx === null || row.iv === null ? {} : { key: { index: Number(row.key_idx), iv: row.iv } };
}

export interface PartRow extends KeyColumns {
  run_id: string;
  rendition: string;
  segment_idx: number;
  part_idx: number;
  cid: string;
  duration: number;
  independent: boolean;
  bytes: number;
}

export interface SegmentRow extends KeyColumns {
  run_id: string;
  rendition: string;
  idx: number;
  cid: string;
  duration: number;
  bytes: number;
  created_at: Date | string;
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/** pg parses jsonb; a value read through a text path may still be a string. */
export function fromJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

export function toRunRecord(row: RunRow): RunRecord {
  const msnBase = Number(row.msn_base);
  // segment_counts.contiguous is the MSN the prefix waits for; a record counts segments.
  const counts: Record<string, SegmentCount> = fromJson(row.segment_counts);
  const segmentCounts = Object.fromEntries(
    Object.entries(counts).map(([rendition, count]) => [rendition, { recorded: Number(count.recorded), contiguous: Number(count.contiguous) - msnBase }]),
  );
  return {
    id: row.id,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    status: row.status,
    width: row.width,
    height: row.height,
    fps: Number(row.fps),
    segmentDuration: Number(row.segment_duration),
    masterCid: row.master_cid,
    qualityPlaylists: fromJson(row.quality_playlists),
    playlistSequence: Number(row.playlist_seq),
    error: row.error,
    startedAt: row.started_at === null ? null : toDate(row.started_at),
    segmentUrl: row.segment_url,
    playlistUrl: row.playlist_url,
    missing: fromJson(row.missing),
    segmentCounts,
    partTarget: row.part_target === null ? null : Number(row.part_target),
    msnBase,
    discontinuitySequence: Number(row.discontinuity_sequence),
    windowSeconds: row.window_seconds === null ? null : Number(row.window_seconds),
    channel: row.channel,
    previousRunId: row.previous_run_id,
    heartbeatAt: row.heartbeat_at === null ? null : toDate(row.heartbeat_at),
    encryption: row.encryption,
    keyRotation: row.key_rotation === null ? null : Number(row.key_rotation),
    keyUrl: row.key_url,
    tracks: fromJson(row.tracks),
  };
}

export function toPartRecord(row: PartRow): PartRecord {
  return {
    runId: row.run_id,
    rendition: row.rendition,
    segmentIndex: row.segment_idx,
    partIndex: row.part_idx,
    cid: row.cid,
    duration: Number(row.duration),
    independent: row.independent,
    bytes: row.bytes,
    ...toResourceKey(row),
  };
}

export function toSegmentRecord(row: SegmentRow): SegmentRecord {
  return {
    runId: row.run_id,
    rendition: row.rendition,
    index: row.idx,
    cid: row.cid,
    duration: Number(row.duration),
    bytes: row.bytes,
    createdAt: toDate(row.created_at),
    ...toResourceKey(row),
  };
}
