export type { QueryResult, SqlClient, SqlDialect, SqlExecutor } from './sql-client.js';
export { defaultDatabaseDir, openPgliteClient } from './pglite-client.js';
export { openPostgresClient, redactDatabaseUrl } from './postgres-client.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate, type Migration } from './migrations.js';
export {
  generateRunId,
  RunRegistry,
  type ListRunsOptions,
  type MissingSegment,
  type NewRun,
  type PublishOptions,
  type PublishResult,
  type QualityPlaylistInfo,
  type QualityPlaylists,
  type RunRecord,
  type RunStatus,
  type SegmentCount,
  type SegmentInput,
  type SegmentRecord,
} from './run-registry.js';
export {
  isValidQualityName,
  isValidRunId,
  QUALITY_NAME_PATTERN,
  RUN_ID_PATTERN,
} from './validation.js';
export { openRegistry, openSqlClient, type OpenRegistryOptions } from './open-registry.js';
export {
  isTransientRegistryError,
  RegistryUnavailableError,
  RunExistsError,
  RunNotFoundError,
  RunStatusError,
  SegmentConflictError,
} from './registry-errors.js';
