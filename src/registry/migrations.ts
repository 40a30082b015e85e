// Versioned schema changes, recorded in `schema_migrations`. Each version is
// applied once, all pending ones in one transaction, so reopening a database is
// a no-op and a failed upgrade leaves the old schema intact.
import { AbrcastError } from '../errors.js';
import type { SqlClient } from './sql-client.js';

export interface Migration {
  version: number;
  name: string;
  /** Single statements (PGlite's extended protocol runs one per query). */
  statements: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs and segments',
    statements: [
      `CREATE TABLE runs (
        id text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        status text NOT NULL DEFAULT 'live' CHECK (status IN ('live', 'ended', 'failed')),
        width integer NOT NULL,
        height integer NOT NULL,
        fps double precision NOT NULL,
        segment_duration double precision NOT NULL,
        master_cid text,
        quality_playlists jsonb NOT NULL DEFAULT '{}'::jsonb,
        playlist_seq bigint NOT NULL DEFAULT 0,
        error text
      )`,
      `CREATE INDEX runs_created_at_idx ON runs (created_at DESC, id DESC)`,
      `CREATE TABLE segments (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        rendition text NOT NULL,
        idx integer NOT NULL CHECK (idx >= 0),
        cid text NOT NULL,
        duration double precision NOT NULL,
        bytes integer NOT NULL CHECK (bytes >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, rendition, idx)
      )`,
    ],
  },
  {
    version: 2,
    name: 'runs in creation order',
    statements: [
      // created_at ties when two runs start within the clock's resolution
      // (PGlite's is coarse); an insertion sequence never does.
      `ALTER TABLE runs ADD COLUMN created_seq bigserial`,
      `CREATE INDEX runs_created_seq_idx ON runs (created_seq DESC)`,
    ],
  },
  {
    version: 3,
    name: 'run start, URL templates, missing list, segment counts',
    statements: [
      `ALTER TABLE runs ADD COLUMN started_at timestamptz`,
      `ALTER TABLE runs ADD COLUMN segment_url text`,
      `ALTER TABLE runs ADD COLUMN playlist_url text`,
      `ALTER TABLE runs ADD COLUMN missing jsonb NOT NULL DEFAULT '[]'::jsonb`,
      // Kept up to date by recordSegment, so a status read never scans segments.
      `CREATE TABLE segment_counts (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        rendition text NOT NULL,
        recorded integer NOT NULL DEFAULT 0,
        contiguous integer NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, rendition)
      )`,
      // Existing runs: the contiguous prefix ends before the first index whose
      // successor is absent (a zero-duration segment counts as absent).
      `INSERT INTO segment_counts (run_id, rendition, recorded, contiguous)
       SELECT r.run_id, r.rendition, r.recorded,
         (SELECT min(c.idx) + 1
          FROM (SELECT -1 AS idx
                UNION ALL
                SELECT p.idx FROM segments p
                WHERE p.run_id = r.run_id AND p.rendition = r.rendition AND p.duration > 0) c
          WHERE NOT EXISTS (
            SELECT 1 FROM segments n
            WHERE n.run_id = r.run_id AND n.rendition = r.rendition AND n.duration > 0 AND n.idx = c.idx + 1))
       FROM (SELECT run_id, rendition, count(*) AS recorded FROM segments GROUP BY run_id, rendition) r`,
    ],
  },
  {
    version: 4,
    name: 'partial segments, init segments, part target (LL-HLS)',
    statements: [
      // The live edge only: recordPart prunes parts of segments older than PART_RETENTION_S.
      `CREATE TABLE parts (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        rendition text NOT NULL,
        segment_idx integer NOT NULL CHECK (segment_idx >= 0),
        part_idx integer NOT NULL CHECK (part_idx >= 0),
        cid text NOT NULL,
        duration double precision NOT NULL,
        independent boolean NOT NULL,
        bytes integer NOT NULL CHECK (bytes >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, rendition, segment_idx, part_idx)
      )`,
      `CREATE TABLE init_segments (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        rendition text NOT NULL,
        cid text NOT NULL,
        PRIMARY KEY (run_id, rendition)
      )`,
      `ALTER TABLE runs ADD COLUMN part_target double precision`,
    ],
  },
  {
    version: 5,
    name: 'channels, sliding windows and archives, heartbeats, run locks',
    statements: [
      // A run's segment and part indexes (idx, segment_idx) are Media Sequence Numbers:
      // segment i of a run is msn_base + i. A channel's run continues its predecessor's numbers.
      `ALTER TABLE runs ADD COLUMN msn_base bigint NOT NULL DEFAULT 0 CHECK (msn_base >= 0)`,
      // Discontinuity sequence number of the run's first segment (> 0: it follows a discontinuity).
      `ALTER TABLE runs ADD COLUMN discontinuity_sequence integer NOT NULL DEFAULT 0 CHECK (discontinuity_sequence >= 0)`,
      `ALTER TABLE runs ADD COLUMN window_seconds double precision`,
      `ALTER TABLE runs ADD COLUMN channel text`,
      `ALTER TABLE runs ADD COLUMN previous_run_id text`,
      `ALTER TABLE runs ADD COLUMN heartbeat_at timestamptz`,
      // A lease: resume and the stale-run sweeper hold it while they end a run.
      `ALTER TABLE runs ADD COLUMN lock_holder text`,
      `ALTER TABLE runs ADD COLUMN lock_expires_at timestamptz`,
      `CREATE INDEX runs_channel_idx ON runs (channel, created_seq DESC) WHERE channel IS NOT NULL`,
      `CREATE INDEX runs_live_heartbeat_idx ON runs (heartbeat_at) WHERE status = 'live'`,
      // run_id: the newest run started on the channel (rows are locked while a run starts on it).
      `CREATE TABLE channels (
        name text PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        run_id text REFERENCES runs (id) ON DELETE SET NULL
      )`,
      // Immutable archive playlists of a windowed run: one row per chunk.
      `CREATE TABLE archives (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        first_msn bigint NOT NULL CHECK (first_msn >= 0),
        segment_count integer NOT NULL CHECK (segment_count > 0),
        duration double precision NOT NULL,
        started_at timestamptz NOT NULL,
        master_cid text NOT NULL,
        media jsonb NOT NULL,
        PRIMARY KEY (run_id, first_msn)
      )`,
    ],
  },
  {
    version: 6,
    name: 'private runs: encryption, wrapped content keys, key and IV of each resource',
    statements: [
      `ALTER TABLE runs ADD COLUMN encryption text CHECK (encryption IN ('aes-128'))`,
      `ALTER TABLE runs ADD COLUMN key_rotation integer CHECK (key_rotation > 0)`,
      `ALTER TABLE runs ADD COLUMN key_url text`,
      // Content keys wrapped under the server secret (AES-256-GCM): never the key itself.
      `CREATE TABLE run_keys (
        run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key_idx integer NOT NULL CHECK (key_idx >= 0),
        wrapped text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, key_idx)
      )`,
      // Which key and IV encrypt each resource (the EXT-X-KEY a server writes before it); NULL when clear.
      `ALTER TABLE segments ADD COLUMN key_idx integer CHECK (key_idx >= 0)`,
      `ALTER TABLE segments ADD COLUMN iv text CHECK (iv ~ '^[0-9a-f]{32}$')`,
      `ALTER TABLE parts ADD COLUMN key_idx integer CHECK (key_idx >= 0)`,
      `ALTER TABLE parts ADD COLUMN iv text CHECK (iv ~ '^[0-9a-f]{32}$')`,
      `ALTER TABLE init_segments ADD COLUMN key_idx integer CHECK (key_idx >= 0)`,
      `ALTER TABLE init_segments ADD COLUMN iv text CHECK (iv ~ '^[0-9a-f]{32}$')`,
    ],
  },
  {
    version: 7,
    name: 'subtitle, I-frame and image playlists, date ranges (beyond the picture)',
    statements: [
      // The newest subtitle, I-frame and image playlists of a run and its date-range lines, set
      // with the variants by each publish (RunTracks); subtitle segments and parts are rows of
      // segments and parts under their track's name.
      `ALTER TABLE runs ADD COLUMN tracks jsonb NOT NULL DEFAULT '{}'::jsonb`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

// Serializes concurrent migrators (two servers starting on one PostgreSQL);
// the lock is released at COMMIT. An arbitrary constant owned by abrcast.
const MIGRATION_LOCK_KEY = '7261726361737431';

/**
 * Applies every pending migration; returns the versions it applied (empty when
 * up to date). `migrations` is for tests and the PGlite seed maker.
 */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const latest = migrations[migrations.length - 1].version;
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => Number(row.version)));
    const newest = Math.max(0, ...done);
    if (newest > latest) {
      throw new AbrcastError(`Registry schema version ${newest} is newer than this abrcast supports (${latest}); upgrade abrcast`);
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}
