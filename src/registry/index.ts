export type { QueryResult, SqlClient, SqlDialect, SqlExecutor, Subscription } from './sql-client.js';
export { PARTS_CHANNEL, type InitRecorded, type PartRecorded, type RunChange, type RunChangeListener, type RunResync, type RunUpdated } from './change-feed.js';
export { defaultDatabaseDir, openPgliteClient } from './pglite-client.js';
export { openPostgresClient, redactDatabaseUrl } from './postgres-client.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, type Migration } from './migrations.js';
export { generateRunId, PART_RETENTION_S, RunRegistry } from './run-registry.js';
export type {
  ListRunsOptions,
  PartPosition,
  PartRecord,
  PublishResult,
  RunRecord,
  RunStatus,
  SegmentCount,
  SegmentRecord,
} from './run-records.js';
export {
  isValidQualityName,
  isValidRunId,
  QUALITY_NAME_PATTERN,
  RUN_ID_PATTERN,
} from './validation.js';
export { openRegistry, openSqlClient, type OpenRegistryOptions } from './open-registry.js';
export {
  isTransientRegistryError,
  PartConflictError,
  RegistryUnavailableError,
  RunExistsError,
  RunNotFoundError,
  RunStatusError,
  SegmentConflictError,
} from './registry-errors.js';
