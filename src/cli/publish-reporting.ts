// What `demo` and `encode` both say about a run being published: where it
// goes, and each uploaded segment and published playlist as it happens.
import { errorMessage } from '../errors.js';
import type { MultiResolutionHlsOutput } from '../publish/multi-resolution-hls-output.js';
import type { ServiceConfig } from './config.js';
import { databaseDir, heliaDir, type Services } from './open-services.js';
import type { Reporter } from './reporter.js';

export function describeServices(config: ServiceConfig, services: Pick<Services, 'registry' | 'storeAddresses'>): string {
  const online = services.storeAddresses.length > 0 ? `, online at ${services.storeAddresses.join(' ')}` : '';
  const replicas = config.replicas > 1 ? ` (each segment pinned on ${config.replicas})` : '';
  const store = config.store === 'kubo' ? `Kubo at ${config.kuboUrls.join(', ')}${replicas}` : `embedded IPFS in ${heliaDir(config)}${online}`;
  const database = services.registry.dialect === 'postgres' ? 'PostgreSQL' : `PGlite in ${databaseDir(config)}`;
  return `Publishing to ${store}; runs recorded in ${database}`;
}

export interface PublishTally {
  /** Segments uploaded so far, all renditions together. */
  readonly segmentsUploaded: number;
  readonly latestMasterCid?: string;
}

/**
 * Reports the output's segments (as 'segment' events once uploaded, with duration and size), its
 * playlist publishes, warnings and retries. `runId` may be a getter, for a run created after the listeners.
 * `masterUrl` says where the first master playlist can be seen.
 */
export function reportPublishing(
  output: MultiResolutionHlsOutput,
  reporter: Reporter,
  runId: string | (() => string),
  masterUrl: (cid: string) => string,
): PublishTally {
  const currentRunId = typeof runId === 'function' ? runId : () => runId;
  const tally = { segmentsUploaded: 0, latestMasterCid: undefined as string | undefined };
  const segmentInfo = new Map<string, { duration: number; bytes: number }>();
  output.on('segment', (segment) => {
    segmentInfo.set(`${segment.rendition}/${segment.index}`, { duration: segment.duration, bytes: segment.bytes });
  });
  output.on('uploaded', ({ rendition, index, cid }) => {
    tally.segmentsUploaded += 1;
    const info = segmentInfo.get(`${rendition}/${index}`);
    segmentInfo.delete(`${rendition}/${index}`);
    reporter.event('segment', { runId: currentRunId(), rendition, index, cid, ...info });
  });
  output.on('publish', (version) => {
    if (!tally.latestMasterCid) reporter.info(`Master playlist: ${version.masterCid} (${masterUrl(version.masterCid)})`);
    tally.latestMasterCid = version.masterCid;
    reporter.event('publish', { runId: currentRunId(), masterCid: version.masterCid, sequence: version.sequence, final: version.final });
  });
  output.on('warning', (message) => reporter.warn(message));
  output.on('retry', ({ what, attempt, error }) =>
    reporter.debug(`retrying ${what} (attempt ${attempt}): ${errorMessage(error)}`),
  );
  return tally;
}

export interface RunEnd {
  runId: string;
  failure: unknown;
  interrupted: boolean;
  frames: number;
  /** Wall-clock seconds from start to the end of close(). */
  seconds: number;
  tally: PublishTally;
  masterCid: string | undefined;
}

/** The fields every run command's 'end' event starts with; each command adds its own. */
export function runEndFields(end: RunEnd): Record<string, unknown> {
  return {
    runId: end.runId,
    status: end.failure ? 'failed' : 'ended',
    interrupted: end.interrupted,
    frames: end.frames,
    seconds: Number(end.seconds.toFixed(3)),
    segments: end.tally.segmentsUploaded,
    masterCid: end.masterCid ?? null,
  };
}
