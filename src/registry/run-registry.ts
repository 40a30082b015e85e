// The runs a publisher has started and the newest playlist CIDs of each, so a
// server can answer /runs/{id}/quality/{name}/playlist.m3u8 with the current
// playlist (immutable IPFS URLs never change under a live viewer).
import { randomBytes } from 'node:crypto';
import { invalidParameterError, isInteger, isPositiveFinite } from '../errors.js';
import { ChangeFeed, PARTS_CHANNEL, parsePartChangePayload, partChangePayload, type PartChangeListener } from './change-feed.js';
import { PartConflictError, RunExistsError, RunNotFoundError, RunStatusError, SegmentConflictError } from './registry-errors.js';
import type { QualityInfo } from '../publish/types.js';
import type { SqlClient, SqlExecutor, Subscription } from './sql-client.js';
import { isValidQualityName, isValidRunId, QUALITY_NAME_PATTERN, RUN_ID_PATTERN } from './validation.js';

export type RunStatus = 'live' | 'ended' | 'failed';

/** What the master playlist says about one quality, plus the CID of its newest media playlist (the publisher's shape). */
export type QualityPlaylistInfo = QualityInfo;

export type QualityPlaylists = Record<string, QualityPlaylistInfo>;

export interface RunRecord {
  id: string;
  createdAt: Date;
  updatedAt: Date;
  status: RunStatus;
  width: number;
  height: number;
  fps: number;
  segmentDuration: number;
  masterCid: string | null;
  qualityPlaylists: QualityPlaylists;
  /** Sequence of the stored playlists; 0 until the first publish. Only ever grows. */
  playlistSequence: number;
  error: string | null;
  /** Wall-clock time of the run's first frame: the origin of EXT-X-PROGRAM-DATE-TIME. */
  startedAt: Date | null;
  /** URL templates the publisher used (e.g. `/ipfs/{cid}`); null when it was given a function. */
  segmentUrl: string | null;
  playlistUrl: string | null;
  /** Segments a failed run never uploaded; empty otherwise. */
  missing: MissingSegment[];
  /** Per rendition: segments recorded, and how many form the playable prefix 0..k-1. */
  segmentCounts: Record<string, SegmentCount>;
  /** LL-HLS PART-TARGET in seconds (the longest a part may last); null for a run without parts. */
  partTarget: number | null;
}

export interface MissingSegment {
  rendition: string;
  index: number;
}

export interface SegmentCount {
  recorded: number;
  contiguous: number;
}

export interface NewRun {
  /** Generated ('r' + 12 base32 characters) when absent; otherwise must match RUN_ID_PATTERN. */
  id?: string;
  width: number;
  height: number;
  fps: number;
  segmentDuration: number;
  /** Wall-clock time of the run's first frame. */
  startedAt?: Date;
  /** The segment and playlist URL templates the publisher uses; omitted when it was given a function. */
  segmentUrl?: string;
  playlistUrl?: string;
}

export interface SegmentInput {
  rendition: string;
  index: number;
  cid: string;
  duration: number;
  bytes: number;
}

export interface SegmentRecord extends SegmentInput {
  runId: string;
  createdAt: Date;
}

/** One partial segment (LL-HLS): part `partIndex` of segment `segmentIndex`. */
export interface PartInput {
  rendition: string;
  segmentIndex: number;
  partIndex: number;
  cid: string;
  /** Seconds. */
  duration: number;
  /** Starts with an IDR frame (INDEPENDENT=YES). */
  independent: boolean;
  bytes: number;
}

export interface PartRecord extends PartInput {
  runId: string;
}

/** The newest part of a rendition: its live edge. */
export interface PartPosition {
  segmentIndex: number;
  partIndex: number;
}

export interface PublishOptions {
  /**
   * Ordering of this publish (e.g. the number of segments it covers). The
   * stored playlists change only when `sequence` is greater than the stored
   * one, so a slow, older publish cannot replace a newer one. Without it the
   * stored sequence is incremented and the publish always applies.
   */
  sequence?: number;
}

export interface PublishResult {
  /** False when a publish with an equal or greater sequence was already stored. */
  applied: boolean;
  /** The sequence stored after this call. */
  sequence: number;
}

export interface ListRunsOptions {
  /** At most this many runs, newest first (1 to 1000, default 50). */
  limit?: number;
}

const MAX_INT32 = 2_147_483_647;
const MAX_LIST_LIMIT = 1000;
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

const MAX_URL_TEMPLATE_LENGTH = 2048;
/** How many rows one step of the contiguous-prefix walk reads. */
const PREFIX_WALK_BATCH = 64;

// The counts come from segment_counts (one row per rendition), never from segments.
const RUN_COLUMNS = `id, created_at, updated_at, status, width, height, fps, segment_duration,
  master_cid, quality_playlists, playlist_seq, error, started_at, segment_url, playlist_url, missing, part_target,
  (SELECT coalesce(jsonb_object_agg(c.rendition, jsonb_build_object('recorded', c.recorded, 'contiguous', c.contiguous)), '{}'::jsonb)
   FROM segment_counts c WHERE c.run_id = runs.id) AS segment_counts`;
const SEGMENT_COLUMNS = 'run_id, rendition, idx, cid, duration, bytes, created_at';
const PART_COLUMNS = 'run_id, rendition, segment_idx, part_idx, cid, duration, independent, bytes';
/**
 * Parts are for the live edge (a playlist lists them for its last few target
 * durations); recordPart deletes those of segments older than this, so the
 * table stays small on long runs.
 */
export const PART_RETENTION_S = 60;

interface RunRow {
  id: string;
  created_at: Date | string;
  updated_at: Date | string;
  status: RunStatus;
  width: number;
  height: number;
  fps: number;
  segment_duration: number;
  master_cid: string | null;
  quality_playlists: QualityPlaylists | string;
  // pg returns bigint as a string, PGlite as a number.
  playlist_seq: number | string | bigint;
  error: string | null;
  started_at: Date | string | null;
  segment_url: string | null;
  playlist_url: string | null;
  missing: MissingSegment[] | string;
  segment_counts: Record<string, SegmentCount> | string;
  part_target: number | null;
}

interface PartRow {
  run_id: string;
  rendition: string;
  segment_idx: number;
  part_idx: number;
  cid: string;
  duration: number;
  independent: boolean;
  bytes: number;
}

interface SegmentRow {
  run_id: string;
  rendition: string;
  idx: number;
  cid: string;
  duration: number;
  bytes: number;
  created_at: Date | string;
}

/** A short, URL-safe, lowercase id: 'r' and 12 base32 characters (60 random bits). */
export function generateRunId(): string {
  // 256 is a multiple of 32, so masking each byte keeps the characters uniform.
  const chars = Array.from(randomBytes(12), (byte) => BASE32_ALPHABET[byte & 31]);
  return `r${chars.join('')}`;
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/** pg parses jsonb; a value read through a text path may still be a string. */
function fromJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

function toRunRecord(row: RunRow): RunRecord {
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
    segmentCounts: fromJson(row.segment_counts),
    partTarget: row.part_target === null ? null : Number(row.part_target),
  };
}

function toPartRecord(row: PartRow): PartRecord {
  return {
    runId: row.run_id,
    rendition: row.rendition,
    segmentIndex: row.segment_idx,
    partIndex: row.part_idx,
    cid: row.cid,
    duration: Number(row.duration),
    independent: row.independent,
    bytes: row.bytes,
  };
}

function toSegmentRecord(row: SegmentRow): SegmentRecord {
  return {
    runId: row.run_id,
    rendition: row.rendition,
    index: row.idx,
    cid: row.cid,
    duration: Number(row.duration),
    bytes: row.bytes,
    createdAt: toDate(row.created_at),
  };
}

function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function requirePositiveInteger(name: string, value: unknown, max = MAX_INT32): void {
  if (!isInteger(value) || value < 1 || value > max) throw invalidParameterError(name, `integer between 1 and ${max}`, value);
}

function requireNonNegativeInteger(name: string, value: unknown, max = MAX_INT32): void {
  if (!isInteger(value) || value < 0 || value > max) throw invalidParameterError(name, `integer between 0 and ${max}`, value);
}

function requirePositiveNumber(name: string, value: unknown): void {
  if (!isPositiveFinite(value)) throw invalidParameterError(name, 'positive finite number', value);
}

function requireNonNegativeNumber(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidParameterError(name, 'non-negative finite number', value);
  }
}

function requireNonEmptyString(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) throw invalidParameterError(name, 'non-empty string', value);
}

function requireQualityName(name: string, value: unknown): void {
  if (!isValidQualityName(value)) throw invalidParameterError(name, `string matching ${QUALITY_NAME_PATTERN}`, value);
}

function requireUrlTemplate(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_TEMPLATE_LENGTH) {
    throw invalidParameterError(name, `string of 1 to ${MAX_URL_TEMPLATE_LENGTH} characters`, value);
  }
}

/** Copies only the known fields, so stray properties never reach the database. */
function checkedMissing(value: unknown): MissingSegment[] {
  if (!Array.isArray(value)) throw invalidParameterError('missing', 'array of { rendition, index }', value);
  return value.map((entry: unknown, position) => {
    if (typeof entry !== 'object' || entry === null) throw invalidParameterError(`missing[${position}]`, 'object', entry);
    const { rendition, index } = entry as Record<string, unknown>;
    requireQualityName(`missing[${position}].rendition`, rendition);
    requireNonNegativeInteger(`missing[${position}].index`, index);
    return { rendition: rendition as string, index: index as number };
  });
}

/** Copies only the known fields, so stray properties never reach the database. */
function checkedQualityPlaylists(value: unknown): QualityPlaylists {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameterError('qualityPlaylists', 'object keyed by quality name', value);
  }
  const checked: QualityPlaylists = {};
  for (const [name, info] of Object.entries(value as Record<string, unknown>)) {
    requireQualityName('qualityPlaylists key', name);
    const prefix = `qualityPlaylists.${name}`;
    if (typeof info !== 'object' || info === null) throw invalidParameterError(prefix, 'object', info);
    const entry = info as Record<string, unknown>;
    requireNonEmptyString(`${prefix}.cid`, entry.cid);
    requirePositiveInteger(`${prefix}.width`, entry.width);
    requirePositiveInteger(`${prefix}.height`, entry.height);
    requireNonNegativeNumber(`${prefix}.bitrate`, entry.bitrate);
    requireNonNegativeNumber(`${prefix}.bandwidth`, entry.bandwidth);
    requireNonNegativeNumber(`${prefix}.averageBandwidth`, entry.averageBandwidth);
    if (typeof entry.codecs !== 'string') throw invalidParameterError(`${prefix}.codecs`, 'string', entry.codecs);
    requirePositiveNumber(`${prefix}.frameRate`, entry.frameRate);
    checked[name] = {
      cid: entry.cid as string,
      width: entry.width as number,
      height: entry.height as number,
      bitrate: entry.bitrate as number,
      bandwidth: entry.bandwidth as number,
      averageBandwidth: entry.averageBandwidth as number,
      codecs: entry.codecs,
      frameRate: entry.frameRate as number,
    };
  }
  return checked;
}

export class RunRegistry {
  readonly #sql: SqlClient;
  readonly #feed = new ChangeFeed();
  /** PostgreSQL's LISTEN connection, opened with the first onChange. */
  #listening: Subscription | undefined;

  constructor(sql: SqlClient) {
    this.#sql = sql;
  }

  /** The backend in use, for logs ('postgres' or 'pglite'). */
  get dialect(): SqlClient['dialect'] {
    return this.#sql.dialect;
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    if (typeof run !== 'object' || run === null) throw invalidParameterError('run', 'object', run);
    if (run.id !== undefined && !isValidRunId(run.id)) {
      throw invalidParameterError('id', `string matching ${RUN_ID_PATTERN}`, run.id);
    }
    requirePositiveInteger('width', run.width);
    requirePositiveInteger('height', run.height);
    requirePositiveNumber('fps', run.fps);
    requirePositiveNumber('segmentDuration', run.segmentDuration);
    if (run.startedAt !== undefined && !(run.startedAt instanceof Date && Number.isFinite(run.startedAt.getTime()))) {
      throw invalidParameterError('startedAt', 'valid Date', run.startedAt);
    }
    if (run.segmentUrl !== undefined) requireUrlTemplate('segmentUrl', run.segmentUrl);
    if (run.playlistUrl !== undefined) requireUrlTemplate('playlistUrl', run.playlistUrl);

    // A generated id colliding is astronomically unlikely, but retrying is cheap.
    for (let attempt = 0; ; attempt++) {
      const id = run.id ?? generateRunId();
      try {
        const { rows } = await this.#sql.query<RunRow>(
          `INSERT INTO runs (id, width, height, fps, segment_duration, started_at, segment_url, playlist_url)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING ${RUN_COLUMNS}`,
          [
            id, run.width, run.height, run.fps, run.segmentDuration,
            run.startedAt ?? null, run.segmentUrl ?? null, run.playlistUrl ?? null,
          ],
        );
        return toRunRecord(rows[0]);
      } catch (error) {
        if (errorCode(error) !== UNIQUE_VIOLATION) throw error;
        if (run.id !== undefined || attempt >= 2) throw new RunExistsError(id);
      }
    }
  }

  /**
   * Stores one segment and updates its rendition's counts, in one transaction.
   * Idempotent: recording the same (rendition, index, cid) again resolves and
   * changes nothing (a retry whose first attempt committed); another CID for a
   * known index rejects with SegmentConflictError. Segments may arrive in any order.
   */
  async recordSegment(runId: string, segment: SegmentInput): Promise<void> {
    if (typeof segment !== 'object' || segment === null) throw invalidParameterError('segment', 'object', segment);
    requireQualityName('rendition', segment.rendition);
    requireNonNegativeInteger('index', segment.index);
    requireNonEmptyString('cid', segment.cid);
    requireNonNegativeNumber('duration', segment.duration);
    requireNonNegativeInteger('bytes', segment.bytes);
    const { rendition, index, cid } = segment;
    try {
      await this.#sql.transaction(async (tx) => {
        const inserted = await tx.query(
          `INSERT INTO segments (run_id, rendition, idx, cid, duration, bytes)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (run_id, rendition, idx) DO NOTHING
           RETURNING idx`,
          [runId, rendition, index, cid, segment.duration, segment.bytes],
        );
        if (inserted.rows.length === 0) {
          const { rows } = await tx.query<{ cid: string }>(
            'SELECT cid FROM segments WHERE run_id = $1 AND rendition = $2 AND idx = $3',
            [runId, rendition, index],
          );
          if (rows[0]?.cid !== cid) throw new SegmentConflictError(runId, rendition, index, rows[0]?.cid ?? '', cid);
          return;
        }
        // The upsert locks the rendition's count row until COMMIT, so writers of
        // one rendition take turns here and each reads the prefix its
        // predecessor committed; the walk below then sees every committed row.
        const counted = await tx.query<{ contiguous: number }>(
          `INSERT INTO segment_counts (run_id, rendition, recorded, contiguous) VALUES ($1, $2, 1, 0)
           ON CONFLICT (run_id, rendition) DO UPDATE SET recorded = segment_counts.recorded + 1
           RETURNING contiguous`,
          [runId, rendition],
        );
        const prefix = Number(counted.rows[0].contiguous);
        // Only the segment the prefix waits for can extend it. The walk reads
        // rows the prefix then covers (plus one batch tail), so it costs O(1)
        // amortised per segment.
        if (index !== prefix || !(segment.duration > 0)) return;
        const contiguous = await this.#walkPrefix(tx, runId, rendition, prefix);
        await tx.query('UPDATE segment_counts SET contiguous = $3 WHERE run_id = $1 AND rendition = $2', [
          runId, rendition, contiguous,
        ]);
      });
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
  }

  /** The first index at or after `from` that is absent (or has no duration). */
  async #walkPrefix(tx: SqlExecutor, runId: string, rendition: string, from: number): Promise<number> {
    let next = from;
    for (;;) {
      const { rows } = await tx.query<{ idx: number; duration: number }>(
        `SELECT idx, duration FROM segments
         WHERE run_id = $1 AND rendition = $2 AND idx >= $3
         ORDER BY idx LIMIT ${PREFIX_WALK_BATCH}`,
        [runId, rendition, next],
      );
      for (const row of rows) {
        if (row.idx !== next || !(Number(row.duration) > 0)) return next;
        next += 1;
      }
      if (rows.length < PREFIX_WALK_BATCH) return next;
    }
  }

  /**
   * Stores one partial segment (LL-HLS) and wakes every onChange listener of
   * the run, in this process or (PostgreSQL NOTIFY, sent at COMMIT) any other.
   * Idempotent like recordSegment: the same CID again changes nothing; another
   * CID for a stored part rejects with PartConflictError. The first part of a
   * segment also deletes the rendition's parts older than PART_RETENTION_S.
   */
  async recordPart(runId: string, part: PartInput): Promise<void> {
    if (typeof part !== 'object' || part === null) throw invalidParameterError('part', 'object', part);
    requireQualityName('rendition', part.rendition);
    requireNonNegativeInteger('segmentIndex', part.segmentIndex);
    requireNonNegativeInteger('partIndex', part.partIndex);
    requireNonEmptyString('cid', part.cid);
    requirePositiveNumber('duration', part.duration);
    if (typeof part.independent !== 'boolean') throw invalidParameterError('independent', 'boolean', part.independent);
    requireNonNegativeInteger('bytes', part.bytes);
    const { rendition, segmentIndex, partIndex, cid } = part;
    const notify = this.#sql.listen !== undefined;
    let inserted = false;
    try {
      await this.#sql.transaction(async (tx) => {
        const { rows } = await tx.query(
          `INSERT INTO parts (run_id, rendition, segment_idx, part_idx, cid, duration, independent, bytes)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (run_id, rendition, segment_idx, part_idx) DO NOTHING
           RETURNING part_idx`,
          [runId, rendition, segmentIndex, partIndex, cid, part.duration, part.independent, part.bytes],
        );
        if (rows.length === 0) {
          const stored = await tx.query<{ cid: string }>(
            'SELECT cid FROM parts WHERE run_id = $1 AND rendition = $2 AND segment_idx = $3 AND part_idx = $4',
            [runId, rendition, segmentIndex, partIndex],
          );
          const storedCid = stored.rows[0]?.cid ?? '';
          if (storedCid !== cid) throw new PartConflictError(runId, `${rendition} part ${segmentIndex}.${partIndex}`, storedCid, cid);
          return;
        }
        inserted = true;
        if (partIndex === 0) {
          await tx.query(
            `DELETE FROM parts WHERE run_id = $1 AND rendition = $2
             AND segment_idx < $3 - (SELECT ceil($4 / segment_duration)::integer FROM runs WHERE id = $1)`,
            [runId, rendition, segmentIndex, PART_RETENTION_S],
          );
        }
        // Delivered at COMMIT, to every connection LISTENing (this process's included).
        if (notify) {
          await tx.query('SELECT pg_notify($1, $2)', [PARTS_CHANNEL, partChangePayload({ runId, rendition, segmentIndex, partIndex })]);
        }
      });
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
    if (inserted && !notify) this.#feed.dispatch({ runId, rendition, segmentIndex, partIndex });
  }

  /** Wakes the run's onChange listeners with "look again" (a new publish): a master waiting for its first variants. */
  async #announce(runId: string): Promise<void> {
    if (this.#sql.listen === undefined) {
      this.#feed.dispatch({ runId });
      return;
    }
    // Best effort: a listener also re-checks on its own timer, so a lost notification only delays it.
    await this.#sql.query('SELECT pg_notify($1, $2)', [PARTS_CHANNEL, runId]).catch(() => undefined);
  }

  async getSegment(runId: string, rendition: string, index: number): Promise<SegmentRecord | undefined> {
    const { rows } = await this.#sql.query<SegmentRow>(
      `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE run_id = $1 AND rendition = $2 AND idx = $3`,
      [runId, rendition, index],
    );
    return rows.length > 0 ? toSegmentRecord(rows[0]) : undefined;
  }

  /** The parts of `rendition` from segment `fromSegmentIndex` on, in order. */
  async listRecentParts(runId: string, rendition: string, fromSegmentIndex: number): Promise<PartRecord[]> {
    requireNonNegativeInteger('fromSegmentIndex', fromSegmentIndex);
    const { rows } = await this.#sql.query<PartRow>(
      `SELECT ${PART_COLUMNS} FROM parts WHERE run_id = $1 AND rendition = $2 AND segment_idx >= $3
       ORDER BY segment_idx, part_idx`,
      [runId, rendition, fromSegmentIndex],
    );
    return rows.map(toPartRecord);
  }

  /**
   * The parts of `rendition` for its newest `segments` segments (the one in
   * progress included), in order: one statement, whatever the run's length.
   */
  async listLiveEdgeParts(runId: string, rendition: string, segments: number): Promise<PartRecord[]> {
    requirePositiveInteger('segments', segments);
    const { rows } = await this.#sql.query<PartRow>(
      `SELECT ${PART_COLUMNS} FROM parts WHERE run_id = $1 AND rendition = $2
       AND segment_idx > (SELECT max(segment_idx) FROM parts WHERE run_id = $1 AND rendition = $2) - $3
       ORDER BY segment_idx, part_idx`,
      [runId, rendition, segments],
    );
    return rows.map(toPartRecord);
  }

  async getPart(runId: string, rendition: string, segmentIndex: number, partIndex: number): Promise<PartRecord | undefined> {
    const { rows } = await this.#sql.query<PartRow>(
      `SELECT ${PART_COLUMNS} FROM parts WHERE run_id = $1 AND rendition = $2 AND segment_idx = $3 AND part_idx = $4`,
      [runId, rendition, segmentIndex, partIndex],
    );
    return rows.length > 0 ? toPartRecord(rows[0]) : undefined;
  }

  /** The newest part of each rendition that has any (for EXT-X-RENDITION-REPORT). */
  async latestParts(runId: string): Promise<Record<string, PartPosition>> {
    const { rows } = await this.#sql.query<{ rendition: string; segment_idx: number; part_idx: number }>(
      `SELECT DISTINCT ON (rendition) rendition, segment_idx, part_idx FROM parts WHERE run_id = $1
       ORDER BY rendition, segment_idx DESC, part_idx DESC`,
      [runId],
    );
    return Object.fromEntries(rows.map((row) => [row.rendition, { segmentIndex: row.segment_idx, partIndex: row.part_idx }]));
  }

  /** The CID of a rendition's fMP4 init segment (EXT-X-MAP); set once, idempotent like recordPart. */
  async setInitSegment(runId: string, rendition: string, cid: string): Promise<void> {
    requireQualityName('rendition', rendition);
    requireNonEmptyString('cid', cid);
    try {
      const { rows } = await this.#sql.query<{ cid: string }>(
        `INSERT INTO init_segments (run_id, rendition, cid) VALUES ($1, $2, $3)
         ON CONFLICT (run_id, rendition) DO UPDATE SET cid = init_segments.cid
         RETURNING cid`,
        [runId, rendition, cid],
      );
      if (rows[0].cid !== cid) throw new PartConflictError(runId, `an init segment for ${rendition}`, rows[0].cid, cid);
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
  }

  /** Init segment CIDs by rendition (empty for a TS run). */
  async getInitSegments(runId: string): Promise<Record<string, string>> {
    const { rows } = await this.#sql.query<{ rendition: string; cid: string }>(
      'SELECT rendition, cid FROM init_segments WHERE run_id = $1',
      [runId],
    );
    return Object.fromEntries(rows.map((row) => [row.rendition, row.cid]));
  }

  /** The run's PART-TARGET (seconds); fixed once set, as EXT-X-PART-INF must be for the whole run. */
  async setPartTarget(runId: string, seconds: number): Promise<void> {
    requirePositiveNumber('seconds', seconds);
    const { rows } = await this.#sql.query<{ part_target: number }>(
      'UPDATE runs SET part_target = coalesce(part_target, $2) WHERE id = $1 RETURNING part_target',
      [runId, seconds],
    );
    if (rows.length === 0) throw new RunNotFoundError(runId);
  }

  /**
   * Calls `listener` for each part recorded for the run from now on (by any
   * process on PostgreSQL, by this registry on PGlite), and with a change
   * without rendition after the feed reconnected (look again: some may have
   * been missed). Returns the function that stops it.
   */
  onChange(runId: string, listener: PartChangeListener): () => void {
    if (typeof listener !== 'function') throw invalidParameterError('listener', 'function', listener);
    if (this.#sql.listen !== undefined && this.#listening === undefined) {
      this.#listening = this.#sql.listen(
        PARTS_CHANNEL,
        (payload) => {
          const change = parsePartChangePayload(payload);
          if (change) this.#feed.dispatch(change);
        },
        () => this.#feed.dispatchAll(),
      );
    }
    return this.#feed.subscribe(runId, listener);
  }

  /**
   * Replaces the run's master CID and per-quality playlists in one statement.
   * With `options.sequence`, an older publish arriving late is ignored
   * (`applied: false`) instead of rolling back the newest CIDs.
   */
  async publishPlaylists(
    runId: string,
    masterCid: string,
    qualityPlaylists: QualityPlaylists,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    requireNonEmptyString('masterCid', masterCid);
    const playlistsJson = JSON.stringify(checkedQualityPlaylists(qualityPlaylists));
    const { sequence } = options;
    if (sequence !== undefined) requirePositiveInteger('sequence', sequence, Number.MAX_SAFE_INTEGER);

    // The WHERE is re-checked on the locked row, so racing publishes serialize
    // and only a strictly newer sequence wins.
    const { rows } =
      sequence === undefined
        ? await this.#sql.query<{ playlist_seq: number | string }>(
            `UPDATE runs
             SET master_cid = $2, quality_playlists = $3::jsonb, playlist_seq = playlist_seq + 1, updated_at = now()
             WHERE id = $1
             RETURNING playlist_seq`,
            [runId, masterCid, playlistsJson],
          )
        : await this.#sql.query<{ playlist_seq: number | string }>(
            `UPDATE runs
             SET master_cid = $2, quality_playlists = $3::jsonb, playlist_seq = $4::bigint, updated_at = now()
             WHERE id = $1 AND playlist_seq < $4::bigint
             RETURNING playlist_seq`,
            [runId, masterCid, playlistsJson, sequence],
          );
    if (rows.length > 0) {
      await this.#announce(runId);
      return { applied: true, sequence: Number(rows[0].playlist_seq) };
    }

    const current = await this.#sql.query<{ playlist_seq: number | string }>(
      'SELECT playlist_seq FROM runs WHERE id = $1',
      [runId],
    );
    if (current.rows.length === 0) throw new RunNotFoundError(runId);
    return { applied: false, sequence: Number(current.rows[0].playlist_seq) };
  }

  /**
   * live -> ended, or failed -> ended (a failed or crashed run completed later),
   * clearing `error` and `missing`. Ended is final; marking it ended again does nothing.
   */
  async markEnded(runId: string): Promise<void> {
    const { rows } = await this.#sql.query(
      `UPDATE runs SET status = 'ended', error = NULL, missing = '[]'::jsonb, updated_at = now()
       WHERE id = $1 AND status IN ('live', 'failed')
       RETURNING id`,
      [runId],
    );
    if (rows.length === 0) await this.#checkStatus(runId, 'ended');
  }

  /**
   * live -> failed, keeping `error` and the segments it never uploaded. On a
   * run already failed, the first error stays and a given `missing` list
   * replaces the stored one (it is the newer view of what is still absent).
   */
  async markFailed(runId: string, error: string, missing?: readonly MissingSegment[]): Promise<void> {
    if (typeof error !== 'string') throw invalidParameterError('error', 'string', error);
    const missingJson = missing === undefined ? null : JSON.stringify(checkedMissing(missing));
    const { rows } = await this.#sql.query(
      `UPDATE runs
       SET status = 'failed',
           error = CASE WHEN status = 'failed' THEN error ELSE $2 END,
           missing = coalesce($3::jsonb, CASE WHEN status = 'failed' THEN missing ELSE '[]'::jsonb END),
           updated_at = now()
       WHERE id = $1 AND status IN ('live', 'failed')
       RETURNING id`,
      [runId, error, missingJson],
    );
    if (rows.length === 0) await this.#checkStatus(runId, 'failed');
  }

  /** After a status update matched no row: the run is missing, or its status forbids the change. */
  async #checkStatus(runId: string, wanted: RunStatus): Promise<void> {
    const current = await this.#sql.query<{ status: RunStatus }>('SELECT status FROM runs WHERE id = $1', [runId]);
    if (current.rows.length === 0) throw new RunNotFoundError(runId);
    if (current.rows[0].status !== wanted) throw new RunStatusError(runId, current.rows[0].status, wanted);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const { rows } = await this.#sql.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`, [id]);
    return rows.length > 0 ? toRunRecord(rows[0]) : undefined;
  }

  /** Newest first. */
  async listRuns(options: ListRunsOptions = {}): Promise<RunRecord[]> {
    const limit = options.limit ?? 50;
    requirePositiveInteger('limit', limit, MAX_LIST_LIMIT);
    const { rows } = await this.#sql.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs ORDER BY created_seq DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toRunRecord);
  }

  /** The stored entry of one quality, read from the JSONB column by key. */
  async getQualityPlaylist(runId: string, name: string): Promise<QualityPlaylistInfo | undefined> {
    const { rows } = await this.#sql.query<{ playlist: QualityPlaylistInfo | string | null }>(
      'SELECT quality_playlists -> $2::text AS playlist FROM runs WHERE id = $1',
      [runId, name],
    );
    const playlist = rows[0]?.playlist;
    if (playlist === undefined || playlist === null) return undefined;
    return typeof playlist === 'string' ? JSON.parse(playlist) : playlist;
  }

  /**
   * What the quality endpoint needs first, in one statement: the stored entry
   * of one quality and the run's part target (set: an LL-HLS run). Undefined
   * when there is no such run.
   */
  async getQualityState(runId: string, name: string): Promise<{ playlist?: QualityPlaylistInfo; partTarget: number | null } | undefined> {
    const { rows } = await this.#sql.query<{ playlist: QualityPlaylistInfo | string | null; part_target: number | null }>(
      'SELECT quality_playlists -> $2::text AS playlist, part_target FROM runs WHERE id = $1',
      [runId, name],
    );
    if (rows.length === 0) return undefined;
    const { playlist, part_target: partTarget } = rows[0];
    return {
      ...(playlist === null || playlist === undefined ? {} : { playlist: fromJson(playlist) }),
      partTarget: partTarget === null ? null : Number(partTarget),
    };
  }

  /** Ordered by rendition (byte order, the same on every server collation), then index. */
  async listSegments(runId: string, rendition?: string): Promise<SegmentRecord[]> {
    const { rows } =
      rendition === undefined
        ? await this.#sql.query<SegmentRow>(
            `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE run_id = $1 ORDER BY rendition COLLATE "C", idx`,
            [runId],
          )
        : await this.#sql.query<SegmentRow>(
            `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE run_id = $1 AND rendition = $2 ORDER BY idx`,
            [runId, rendition],
          );
    return rows.map(toSegmentRecord);
  }

  /** Removes the run and (by cascade) its segments; false when there was no such run. */
  async deleteRun(runId: string): Promise<boolean> {
    const { rows } = await this.#sql.query('DELETE FROM runs WHERE id = $1 RETURNING id', [runId]);
    return rows.length > 0;
  }

  async close(): Promise<void> {
    await this.#listening?.close();
    await this.#sql.close();
  }
}
