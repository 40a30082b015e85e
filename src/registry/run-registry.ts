// The runs a publisher has started and the newest playlist CIDs of each, so a
// server can answer /runs/{id}/quality/{name}/playlist.m3u8 with the current
// playlist (immutable IPFS URLs never change under a live viewer).
import { randomBytes } from 'node:crypto';
import { errorCode, invalidParameterError } from '../errors.js';
import type { ResourceKey } from '../hls/types.js';
import type { MissingSegment, NewRun, PartInput, PublishOptions, SegmentInput } from '../model/run-inputs.js';
import type { VariantStreamRecord, VariantStreamRecords } from '../model/variant-stream-record.js';
import { ChangeFeed, PARTS_CHANNEL, parseRunChangePayload, runChangePayload, type RunChange, type RunChangeListener, type RunResync } from './change-feed.js';
import {
  ChannelChangedError, isTransientRegistryError, PartConflictError, RunExistsError, RunNotFoundError, RunStatusError, SegmentConflictError,
} from './registry-errors.js';
import {
  checkedMissing, checkedTracks, checkedVariants, checkNewRun, checkPart, checkResourceKey, checkSegment, requireNonEmptyString, requireNonNegativeInteger,
  requirePositiveInteger, requirePositiveNumber, requireQualityName,
} from './run-input-checks.js';
import type {
  ArchiveRecord, ChannelRecord, ChannelSegment, ListRunsOptions, PartPosition, PartRecord, PublishResult, RunRecord, RunStatus, SegmentRecord,
} from './run-records.js';
import {
  ARCHIVE_COLUMNS, fromJson, PART_COLUMNS, RUN_COLUMNS, SEGMENT_COLUMNS, toArchiveRecord, toPartRecord, toResourceKey, toRunRecord,
  toSegmentRecord, type ArchiveRow, type KeyColumns, type PartRow, type RunRow, type SegmentRow,
} from './row-mapping.js';
import type { SqlClient, SqlExecutor, Subscription } from './sql-client.js';

const MAX_LIST_LIMIT = 1000;
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';

/** How many rows one step of the contiguous-prefix walk reads. */
const PREFIX_WALK_BATCH = 64;

/**
 * Parts are for the live edge (a playlist lists them for its last few target
 * durations); recordPart deletes those of segments older than this whose
 * segment is stored (in the rendition's contiguous prefix, so a playlist lists
 * it from its record), so the table stays small on long runs. The parts of a
 * segment not yet stored stay, however far the segment lane lags: they are
 * what the live edge lists it from.
 */
export const PART_RETENTION_S = 60;

/** A short, URL-safe, lowercase id: 'r' and 12 base32 characters (60 random bits). */
export function generateRunId(): string {
  // 256 is a multiple of 32, so masking each byte keeps the characters uniform.
  const chars = Array.from(randomBytes(12), (byte) => BASE32_ALPHABET[byte & 31]);
  return `r${chars.join('')}`;
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
    checkNewRun(run);

    // A generated id colliding is astronomically unlikely, but retrying is cheap.
    for (let attempt = 0; ; attempt++) {
      const id = run.id ?? generateRunId();
      try {
        if (run.channel !== undefined) return await this.#createChannelRun(id, run, run.channel);
        const { rows } = await this.#sql.query<RunRow>(
          `INSERT INTO runs (id, width, height, fps, segment_duration, started_at, segment_url, playlist_url, window_seconds,
             encryption, key_rotation, key_url)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           RETURNING ${RUN_COLUMNS}`,
          [
            id, run.width, run.height, run.fps, run.segmentDuration,
            run.startedAt ?? null, run.segmentUrl ?? null, run.playlistUrl ?? null, run.windowSeconds ?? null,
            run.encryption ?? null, run.keyRotation ?? null, run.keyUrl ?? null,
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
   * The channel's next run, in one transaction that holds the channel's row: numbered
   * after the newest run's contiguous prefix (common to every rendition: what its
   * playlists could list), one discontinuity later.
   */
  async #createChannelRun(id: string, run: NewRun, channel: string): Promise<RunRecord> {
    return this.#sql.transaction(async (tx) => {
      await tx.query('INSERT INTO channels (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [channel]);
      const { rows: channelRows } = await tx.query<{ run_id: string | null }>('SELECT run_id FROM channels WHERE name = $1 FOR UPDATE', [channel]);
      const newest = channelRows[0].run_id;
      if (run.follows !== undefined && run.follows !== newest) throw new ChannelChangedError(channel, run.follows, newest);
      let msnBase = 0;
      let discontinuitySequence = 0;
      if (newest !== null) {
        // Past every MSN a viewer may have seen of the previous run: a whole segment in any rendition, or a part
        // (LL-HLS) of one it never finished. Reused, that MSN would name a segment of another discontinuity
        // sequence than the parts a player kept, and hls.js stops for good; the tail lists it as a gap instead.
        const { rows } = await tx.query<{ msn_base: number | string; discontinuity_sequence: number; next_msn: number | string | null; after_parts: number | string | null }>(
          `SELECT msn_base, discontinuity_sequence,
             (SELECT max(c.contiguous) FROM segment_counts c WHERE c.run_id = runs.id) AS next_msn,
             (SELECT max(p.segment_idx) + 1 FROM parts p WHERE p.run_id = runs.id) AS after_parts
           FROM runs WHERE id = $1`,
          [newest],
        );
        const previous = rows[0];
        msnBase = Math.max(Number(previous.msn_base), Number(previous.next_msn ?? 0), Number(previous.after_parts ?? 0));
        discontinuitySequence = previous.discontinuity_sequence + 1;
      }
      const { rows } = await tx.query<RunRow>(
        `INSERT INTO runs (id, width, height, fps, segment_duration, started_at, segment_url, playlist_url, window_seconds,
           channel, previous_run_id, msn_base, discontinuity_sequence, encryption, key_rotation, key_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         RETURNING ${RUN_COLUMNS}`,
        [
          id, run.width, run.height, run.fps, run.segmentDuration, run.startedAt ?? null, run.segmentUrl ?? null,
          run.playlistUrl ?? null, run.windowSeconds ?? null, channel, newest, msnBase, discontinuitySequence,
          run.encryption ?? null, run.keyRotation ?? null, run.keyUrl ?? null,
        ],
      );
      await tx.query('UPDATE channels SET run_id = $2 WHERE name = $1', [channel, id]);
      return toRunRecord(rows[0]);
    });
  }

  /**
   * Stores one segment and updates its rendition's counts, in one transaction.
   * Idempotent: recording the same (rendition, index, cid) again resolves and
   * changes nothing (a retry whose first attempt committed); another CID for a
   * known index rejects with SegmentConflictError. Segments may arrive in any order.
   */
  async recordSegment(runId: string, segment: SegmentInput): Promise<void> {
    checkSegment(segment);
    const { rendition, index, cid } = segment;
    try {
      await this.#sql.transaction(async (tx) => {
        const inserted = await tx.query(
          `INSERT INTO segments (run_id, rendition, idx, cid, duration, bytes, key_idx, iv)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (run_id, rendition, idx) DO NOTHING
           RETURNING idx`,
          [runId, rendition, index, cid, segment.duration, segment.bytes, segment.key?.index ?? null, segment.key?.iv ?? null],
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
        // The prefix of a channel's run starts at its first MSN.
        const counted = await tx.query<{ contiguous: number }>(
          `INSERT INTO segment_counts (run_id, rendition, recorded, contiguous)
           VALUES ($1, $2, 1, (SELECT msn_base FROM runs WHERE id = $1))
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
   * segment also deletes the rendition's parts older than PART_RETENTION_S
   * whose segments are stored.
   */
  async recordPart(runId: string, part: PartInput): Promise<void> {
    checkPart(part);
    const { rendition, segmentIndex, partIndex, cid } = part;
    const notify = this.#sql.listen !== undefined;
    let inserted = false;
    try {
      await this.#sql.transaction(async (tx) => {
        const { rows } = await tx.query(
          `INSERT INTO parts (run_id, rendition, segment_idx, part_idx, cid, duration, independent, bytes, key_idx, iv)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (run_id, rendition, segment_idx, part_idx) DO NOTHING
           RETURNING part_idx`,
          [runId, rendition, segmentIndex, partIndex, cid, part.duration, part.independent, part.bytes, part.key?.index ?? null, part.key?.iv ?? null],
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
             AND segment_idx < $3 - (SELECT ceil($4 / segment_duration)::integer FROM runs WHERE id = $1)
             AND segment_idx < (SELECT contiguous FROM segment_counts WHERE run_id = $1 AND rendition = $2)`,
            [runId, rendition, segmentIndex, PART_RETENTION_S],
          );
        }
        // Delivered at COMMIT, to every connection LISTENing (this process's included).
        if (notify) {
          await tx.query('SELECT pg_notify($1, $2)', [PARTS_CHANNEL, runChangePayload({ kind: 'part', runId, rendition, segmentIndex, partIndex })]);
        }
      });
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
    if (inserted && !notify) this.#feed.dispatch({ kind: 'part', runId, rendition, segmentIndex, partIndex });
  }

  /**
   * Tells the run's onChange listeners (in any process) about a change this
   * call committed. Best effort: the change is stored; a lost notification
   * delays a follower until its next change or resync, it loses nothing.
   */
  async #announce(change: Exclude<RunChange, RunResync>): Promise<void> {
    if (this.#sql.listen === undefined) {
      this.#feed.dispatch(change);
      return;
    }
    await this.#sql.query('SELECT pg_notify($1, $2)', [PARTS_CHANNEL, runChangePayload(change)]).catch(() => undefined);
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

  /** The CID of a rendition's fMP4 init segment (EXT-X-MAP), and its key in an encrypted run; set once, idempotent like recordPart. */
  async setInitSegment(runId: string, rendition: string, cid: string, key?: ResourceKey): Promise<void> {
    requireQualityName('rendition', rendition);
    requireNonEmptyString('cid', cid);
    checkResourceKey('key', key);
    try {
      const { rows } = await this.#sql.query<{ cid: string }>(
        `INSERT INTO init_segments (run_id, rendition, cid, key_idx, iv) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (run_id, rendition) DO UPDATE SET cid = init_segments.cid
         RETURNING cid`,
        [runId, rendition, cid, key?.index ?? null, key?.iv ?? null],
      );
      if (rows[0].cid !== cid) throw new PartConflictError(runId, `an init segment for ${rendition}`, rows[0].cid, cid);
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
    await this.#announce({ kind: 'init', runId, rendition, cid });
  }

  /** Init segment CIDs by rendition (empty for a TS run). */
  async getInitSegments(runId: string): Promise<Record<string, string>> {
    const { rows } = await this.#sql.query<{ rendition: string; cid: string }>(
      'SELECT rendition, cid FROM init_segments WHERE run_id = $1',
      [runId],
    );
    return Object.fromEntries(rows.map((row) => [row.rendition, row.cid]));
  }

  /** The keys and IVs of an encrypted run's init segments, by rendition (empty for a clear or TS run). */
  async getInitSegmentKeys(runId: string): Promise<Record<string, ResourceKey>> {
    const { rows } = await this.#sql.query<KeyColumns & { rendition: string }>(
      'SELECT rendition, key_idx, iv FROM init_segments WHERE run_id = $1 AND key_idx IS NOT NULL',
      [runId],
    );
    return Object.fromEntries(rows.flatMap((row) => {
      const { key } = toResourceKey(row);
      return key ? [[row.rendition, key]] : [];
    }));
  }

  /**
   * Stores an encrypted run's content key `index`, wrapped under the server
   * secret, unless the run has that key already; resolves with the stored one
   * (the first writer wins, so a retried or resumed publisher uses the same key).
   */
  async putRunKey(runId: string, index: number, wrapped: string): Promise<string> {
    requireNonNegativeInteger('index', index);
    requireNonEmptyString('wrapped', wrapped);
    try {
      const { rows } = await this.#sql.query<{ wrapped: string }>(
        `INSERT INTO run_keys (run_id, key_idx, wrapped) VALUES ($1, $2, $3)
         ON CONFLICT (run_id, key_idx) DO UPDATE SET wrapped = run_keys.wrapped
         RETURNING wrapped`,
        [runId, index, wrapped],
      );
      return rows[0].wrapped;
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
  }

  /** An encrypted run's content key `index` as stored (wrapped); undefined when there is none. */
  async getRunKey(runId: string, index: number): Promise<string | undefined> {
    requireNonNegativeInteger('index', index);
    const { rows } = await this.#sql.query<{ wrapped: string }>('SELECT wrapped FROM run_keys WHERE run_id = $1 AND key_idx = $2', [runId, index]);
    return rows[0]?.wrapped;
  }

  /** Wrapped keys of every run after (runId, index) in that order, `limit` at a time: for re-wrapping them all. */
  async listRunKeys(after: { runId: string; index: number } | undefined, limit = 500): Promise<Array<{ runId: string; index: number; wrapped: string }>> {
    requirePositiveInteger('limit', limit, MAX_LIST_LIMIT);
    const { rows } = await this.#sql.query<{ run_id: string; key_idx: number; wrapped: string }>(
      `SELECT run_id, key_idx, wrapped FROM run_keys
       WHERE ($1::text IS NULL OR (run_id COLLATE "C", key_idx) > ($1::text COLLATE "C", $2::integer))
       ORDER BY run_id COLLATE "C", key_idx LIMIT $3`,
      [after?.runId ?? null, after?.index ?? 0, limit],
    );
    return rows.map((row) => ({ runId: row.run_id, index: Number(row.key_idx), wrapped: row.wrapped }));
  }

  /** Replaces a wrapped key (re-wrapped under a new secret) if it is still `expected`; false when it changed meanwhile or is gone. */
  async replaceRunKey(runId: string, index: number, expected: string, wrapped: string): Promise<boolean> {
    requireNonEmptyString('wrapped', wrapped);
    const { rows } = await this.#sql.query(
      'UPDATE run_keys SET wrapped = $4 WHERE run_id = $1 AND key_idx = $2 AND wrapped = $3 RETURNING key_idx',
      [runId, index, expected, wrapped],
    );
    return rows.length > 0;
  }

  /** The run's PART-TARGET (seconds); fixed once set, as EXT-X-PART-INF must be for the whole run. */
  async setPartTarget(runId: string, seconds: number): Promise<void> {
    requirePositiveNumber('seconds', seconds);
    const { rows } = await this.#sql.query<{ part_target: number }>(
      'UPDATE runs SET part_target = coalesce(part_target, $2) WHERE id = $1 RETURNING part_target',
      [runId, seconds],
    );
    if (rows.length === 0) throw new RunNotFoundError(runId);
    await this.#announce({ kind: 'run', runId });
  }

  /**
   * Calls `listener` for each change of the run from now on (by any process
   * on PostgreSQL, by this registry on PGlite): parts recorded, init segments
   * set, the run record updated (publish, status, part target); and with
   * 'resync' each time the PostgreSQL feed (re)connected, as changes may have
   * been missed. Returns the function that stops it.
   */
  onChange(runId: string, listener: RunChangeListener): () => void {
    if (typeof listener !== 'function') throw invalidParameterError('listener', 'function', listener);
    if (this.#sql.listen !== undefined && this.#listening === undefined) {
      this.#listening = this.#sql.listen(
        PARTS_CHANNEL,
        (payload) => {
          const change = parseRunChangePayload(payload);
          if (change) this.#feed.dispatch(change);
        },
        () => this.#feed.dispatchResync(),
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
    qualityPlaylists: VariantStreamRecords,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    requireNonEmptyString('masterCid', masterCid);
    const playlistsJson = JSON.stringify(checkedVariants(qualityPlaylists));
    // Absent: the stored tracks stay (a publisher without them never clears them).
    const tracksJson = options.tracks === undefined ? null : JSON.stringify(checkedTracks(options.tracks));
    const { sequence } = options;
    if (sequence !== undefined) requirePositiveInteger('sequence', sequence, Number.MAX_SAFE_INTEGER);

    // The WHERE is re-checked on the locked row, so racing publishes serialize
    // and only a strictly newer sequence wins.
    const { rows } =
      sequence === undefined
        ? await this.#sql.query<{ playlist_seq: number | string }>(
            `UPDATE runs
             SET master_cid = $2, quality_playlists = $3::jsonb, tracks = coalesce($4::jsonb, tracks),
                 playlist_seq = playlist_seq + 1, updated_at = now()
             WHERE id = $1
             RETURNING playlist_seq`,
            [runId, masterCid, playlistsJson, tracksJson],
          )
        : await this.#sql.query<{ playlist_seq: number | string }>(
            `UPDATE runs
             SET master_cid = $2, quality_playlists = $3::jsonb, playlist_seq = $4::bigint,
                 tracks = coalesce($5::jsonb, tracks), updated_at = now()
             WHERE id = $1 AND playlist_seq < $4::bigint
             RETURNING playlist_seq`,
            [runId, masterCid, playlistsJson, sequence, tracksJson],
          );
    if (rows.length > 0) {
      await this.#announce({ kind: 'run', runId });
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
    else await this.#announce({ kind: 'run', runId });
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
    else await this.#announce({ kind: 'run', runId });
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
  async getQualityPlaylist(runId: string, name: string): Promise<VariantStreamRecord | undefined> {
    const { rows } = await this.#sql.query<{ playlist: VariantStreamRecord | string | null }>(
      'SELECT quality_playlists -> $2::text AS playlist FROM runs WHERE id = $1',
      [runId, name],
    );
    const playlist = rows[0]?.playlist;
    if (playlist === undefined || playlist === null) return undefined;
    return typeof playlist === 'string' ? JSON.parse(playlist) : playlist;
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

  /**
   * Notes that the run's producer is alive (a cheap periodic write; the database's clock
   * stamps it). False when the run is not live any more (a sweeper or resume ended it).
   */
  async heartbeat(runId: string): Promise<boolean> {
    const { rows } = await this.#sql.query(`UPDATE runs SET heartbeat_at = now() WHERE id = $1 AND status = 'live' RETURNING id`, [runId]);
    if (rows.length > 0) return true;
    if (!(await this.getRun(runId))) throw new RunNotFoundError(runId);
    return false;
  }

  /**
   * Milliseconds since the run's producer last sent a heartbeat, by the database's clock
   * (the one that stamps them): null when it never sent one, undefined for no such run.
   */
  async heartbeatAgeMs(runId: string): Promise<number | null | undefined> {
    const { rows } = await this.#sql.query<{ ms: number | string | null }>(
      `SELECT (extract(epoch FROM now() - heartbeat_at) * 1000)::double precision AS ms FROM runs WHERE id = $1`,
      [runId],
    );
    if (rows.length === 0) return undefined;
    return rows[0].ms === null ? null : Math.max(0, Number(rows[0].ms));
  }

  /**
   * Takes the run's lease for `holder` (resume, the stale-run sweeper) for `ttlMs`, or
   * renews it; false while another holder's lease runs. Release it with releaseRunLock.
   */
  async acquireRunLock(runId: string, holder: string, ttlMs: number): Promise<boolean> {
    requireNonEmptyString('holder', holder);
    requirePositiveInteger('ttlMs', ttlMs);
    const { rows } = await this.#sql.query(
      `UPDATE runs SET lock_holder = $2, lock_expires_at = now() + $3 * interval '1 millisecond'
       WHERE id = $1 AND (lock_holder IS NULL OR lock_holder = $2 OR lock_expires_at < now())
       RETURNING id`,
      [runId, holder, ttlMs],
    );
    if (rows.length > 0) return true;
    if (!(await this.getRun(runId))) throw new RunNotFoundError(runId);
    return false;
  }

  /** Who holds the run's lease now, if anyone. */
  async runLockHolder(runId: string): Promise<string | undefined> {
    const { rows } = await this.#sql.query<{ lock_holder: string | null }>(
      'SELECT lock_holder FROM runs WHERE id = $1 AND lock_expires_at >= now()',
      [runId],
    );
    return rows[0]?.lock_holder ?? undefined;
  }

  async releaseRunLock(runId: string, holder: string): Promise<void> {
    await this.#sql.query('UPDATE runs SET lock_holder = NULL, lock_expires_at = NULL WHERE id = $1 AND lock_holder = $2', [runId, holder]);
  }

  /**
   * Live runs outside channels whose producer has been silent (no heartbeat, else no
   * update) for at least `silentForMs`, oldest first: what the stale-run sweeper ends.
   */
  async listSilentRuns(silentForMs: number, limit = 20): Promise<RunRecord[]> {
    requirePositiveInteger('silentForMs', silentForMs);
    requirePositiveInteger('limit', limit, MAX_LIST_LIMIT);
    const { rows } = await this.#sql.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE status = 'live' AND channel IS NULL AND coalesce(heartbeat_at, updated_at) < now() - $1 * interval '1 millisecond'
       ORDER BY coalesce(heartbeat_at, updated_at) LIMIT $2`,
      [silentForMs, limit],
    );
    return rows.map(toRunRecord);
  }

  /** Records an archive chunk of a windowed run; idempotent (a repeat of the same chunk changes nothing). */
  async recordArchive(runId: string, chunk: Omit<ArchiveRecord, 'runId'>): Promise<void> {
    requireNonNegativeInteger('firstMsn', chunk.firstMsn);
    requirePositiveInteger('segmentCount', chunk.segmentCount);
    requireNonEmptyString('masterCid', chunk.masterCid);
    if (!(chunk.startedAt instanceof Date) || !Number.isFinite(chunk.startedAt.getTime())) throw invalidParameterError('startedAt', 'valid Date', chunk.startedAt);
    const media: Record<string, { cid: string; segmentCount: number }> = {};
    for (const [rendition, entry] of Object.entries(chunk.media ?? {})) {
      requireQualityName('rendition', rendition);
      requireNonEmptyString(`media.${rendition}.cid`, entry?.cid);
      requirePositiveInteger(`media.${rendition}.segmentCount`, entry?.segmentCount);
      media[rendition] = { cid: entry.cid, segmentCount: entry.segmentCount };
    }
    try {
      await this.#sql.query(
        `INSERT INTO archives (run_id, first_msn, segment_count, duration, started_at, master_cid, media)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) ON CONFLICT (run_id, first_msn) DO NOTHING`,
        [runId, chunk.firstMsn, chunk.segmentCount, chunk.duration, chunk.startedAt, chunk.masterCid, JSON.stringify(media)],
      );
    } catch (error) {
      if (errorCode(error) === FOREIGN_KEY_VIOLATION) throw new RunNotFoundError(runId);
      throw error;
    }
  }

  /** The run's archive chunks in order. */
  async listArchives(runId: string): Promise<ArchiveRecord[]> {
    const { rows } = await this.#sql.query<ArchiveRow>(`SELECT ${ARCHIVE_COLUMNS} FROM archives WHERE run_id = $1 ORDER BY first_msn`, [runId]);
    return rows.map(toArchiveRecord);
  }

  /** The archive chunks of every run of the channel, in Media Sequence order. */
  async listChannelArchives(name: string): Promise<ArchiveRecord[]> {
    const { rows } = await this.#sql.query<ArchiveRow>(
      `SELECT ${ARCHIVE_COLUMNS.split(', ').map((column) => `a.${column}`).join(', ')}
       FROM archives a JOIN runs r ON r.id = a.run_id WHERE r.channel = $1 ORDER BY a.first_msn, r.created_seq`,
      [name],
    );
    return rows.map(toArchiveRecord);
  }

  /** The channel, or undefined when no run ever started on it. */
  async getChannel(name: string): Promise<ChannelRecord | undefined> {
    const { rows } = await this.#sql.query<{ name: string; created_at: Date | string; run_id: string | null; current_run_id: string | null }>(
      `SELECT name, created_at, run_id,
         (SELECT id FROM runs WHERE channel = channels.name AND master_cid IS NOT NULL ORDER BY created_seq DESC LIMIT 1) AS current_run_id
       FROM channels WHERE name = $1`,
      [name],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      name: row.name, createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
      newestRunId: row.run_id, currentRunId: row.current_run_id,
    };
  }

  /** The channel's runs, newest first (at most `limit`). */
  async listChannelRuns(name: string, limit = 50): Promise<RunRecord[]> {
    requirePositiveInteger('limit', limit, MAX_LIST_LIMIT);
    const { rows } = await this.#sql.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE channel = $1 ORDER BY created_seq DESC LIMIT $2`,
      [name, limit],
    );
    return rows.map(toRunRecord);
  }

  /** The run of the channel that numbers segment `msn` (the newest whose first MSN is at or below it). */
  async channelRunForMsn(name: string, msn: number): Promise<string | undefined> {
    requireNonNegativeInteger('msn', msn, Number.MAX_SAFE_INTEGER);
    const { rows } = await this.#sql.query<{ id: string }>(
      'SELECT id FROM runs WHERE channel = $1 AND msn_base <= $2 ORDER BY created_seq DESC LIMIT 1',
      [name, msn],
    );
    return rows[0]?.id;
  }

  /**
   * Up to `count` segments of each rendition of the channel before MSN `beforeMsn`, oldest
   * first, from the runs that numbered them: the tail a channel's next run lists before its
   * own. Each run contributes the MSNs from its first up to the next run's first.
   */
  async channelTail(name: string, beforeMsn: number, count: number): Promise<ChannelSegment[]> {
    requireNonNegativeInteger('beforeMsn', beforeMsn, Number.MAX_SAFE_INTEGER);
    requirePositiveInteger('count', count);
    const from = Math.max(0, beforeMsn - count);
    const tail: ChannelSegment[][] = [];
    let upper = beforeMsn;
    const { rows: runs } = await this.#sql.query<{
      id: string; msn_base: number | string; discontinuity_sequence: number; started_at: Date | string | null; created_at: Date | string; segment_url: string | null;
      key_url: string | null;
    }>(
      `SELECT id, msn_base, discontinuity_sequence, started_at, created_at, segment_url, key_url FROM runs
       WHERE channel = $1 AND msn_base < $2 ORDER BY created_seq DESC`,
      [name, beforeMsn],
    );
    for (const run of runs) {
      if (upper <= from) break;
      const base = Number(run.msn_base);
      const start = Math.max(base, from);
      if (start < upper) {
        const [{ rows: segments }, { rows: offsets }, inits, initKeys] = await Promise.all([
          this.#sql.query<SegmentRow>(
            `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE run_id = $1 AND idx >= $2 AND idx < $3 ORDER BY rendition COLLATE "C", idx`,
            [run.id, start, upper],
          ),
          this.#sql.query<{ rendition: string; seconds: number | null }>(
            'SELECT rendition, sum(duration) AS seconds FROM segments WHERE run_id = $1 AND idx < $2 GROUP BY rendition',
            [run.id, start],
          ),
          this.getInitSegments(run.id),
          this.getInitSegmentKeys(run.id),
        ]);
        const origin = new Date(run.started_at ?? run.created_at).getTime();
        const seconds = new Map(offsets.map((row) => [row.rendition, Number(row.seconds ?? 0)]));
        tail.push(segments.map((row) => {
          const at = seconds.get(row.rendition) ?? 0;
          seconds.set(row.rendition, at + Number(row.duration));
          return {
            runId: run.id, rendition: row.rendition, msn: row.idx, cid: row.cid, duration: Number(row.duration), bytes: row.bytes,
            startedAt: new Date(origin + Math.round(at * 1000)),
            discontinuity: row.idx === base && run.discontinuity_sequence > 0,
            discontinuitySequence: run.discontinuity_sequence,
            segmentUrl: run.segment_url,
            ...(inits[row.rendition] ? { initCid: inits[row.rendition] } : {}),
            ...toResourceKey(row),
            ...(initKeys[row.rendition] ? { initKey: initKeys[row.rendition] } : {}),
            keyUrl: run.key_url,
          };
        }));
      }
      upper = Math.min(upper, base);
    }
    return tail.reverse().flat();
  }

  /** Deletes the rendition's part records below segment `beforeMsn` (their bytes were released from the store). */
  async forgetParts(runId: string, rendition: string, beforeMsn: number): Promise<void> {
    requireQualityName('rendition', rendition);
    requireNonNegativeInteger('beforeMsn', beforeMsn);
    await this.#sql.query('DELETE FROM parts WHERE run_id = $1 AND rendition = $2 AND segment_idx < $3', [runId, rendition, beforeMsn]);
  }

  /** Removes the run and (by cascade) its segments; false when there was no such run. */
  async deleteRun(runId: string): Promise<boolean> {
    const { rows } = await this.#sql.query('DELETE FROM runs WHERE id = $1 RETURNING id', [runId]);
    return rows.length > 0;
  }

  /** Resolves when the database answers a round trip on a path of its own (for /healthz); rejects otherwise. */
  ping(): Promise<void> {
    return this.#sql.ping();
  }

  /** RunRecorder's question: may this registry call succeed if retried? (isTransientRegistryError) */
  isTransientError(error: unknown): boolean {
    return isTransientRegistryError(error);
  }

  async close(): Promise<void> {
    await this.#listening?.close();
    await this.#sql.close();
  }
}
