// Completes a run whose publisher crashed or gave up (`abrcast resume <run>`):
// uploads every segment its journal holds that the store lacks, records all of
// them in the registry (recordSegment is idempotent), then ends the run with
// finalizeRun, and removes the journal. Without a journal it is finalizeRun.
//
// It never races the run's producer or another resume: it refuses a run whose
// producer is alive (the journal's lock names a live process on this machine,
// or, without that certainty, the run's heartbeat is fresh), and it holds the
// journal's lock and the run's lease in the registry while it works. A segment
// the journal cannot read is reported missing: the run then ends as failed on
// what could be listed, and the journal stays for another try.
//
// An encrypted run's segments are encrypted as the live publisher would have
// (the same keys from the registry, the same IVs: the very same bytes and CIDs),
// so nothing clear reaches the store; that needs the server secret.
import { hostname } from 'node:os';
import { AbrcastError, errorMessage } from '../errors.js';
import { JournalLock } from '../journal/journal-lock.js';
import { defaultJournalDir, SegmentJournal, type JournalSegment } from '../journal/segment-journal.js';
import { stalledAfterMs } from '../model/heartbeat.js';
import type { MissingSegment } from '../model/run-inputs.js';
import { finalizeRun, type FinalizableRegistry, type FinalizeRunOptions, type FinalizeRunResult } from './finalize-run.js';
import type { RunRecorder } from '../model/run-recorder.js';
import { resolveSecrets, type SecretInput } from '../crypto/server-secret.js';
import { ResourceCipher } from './resource-cipher.js';
import { ResourceStore } from './resource-store.js';
import { RunKeys } from './run-keys.js';

/** What resume needs of a registry beyond finalizing: RunRegistry fits; without the lease and heartbeat methods it cannot guard. */
export type ResumableRegistry = FinalizableRegistry & Pick<RunRecorder, 'recordSegment' | 'putRunKey'> & {
  heartbeatAgeMs?(runId: string): Promise<number | null | undefined>;
  acquireRunLock?(runId: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseRunLock?(runId: string, holder: string): Promise<void>;
  runLockHolder?(runId: string): Promise<string | undefined>;
};

export interface ResumeRunOptions extends Omit<FinalizeRunOptions, 'journal' | 'registry' | 'failure'> {
  registry: ResumableRegistry;
  /** An encrypted run's server secret (default: ABRCAST_KEY_SECRET), the one its keys are wrapped with. */
  keySecret?: SecretInput;
  /** Parent of the run journals (default ~/.abrcast/journal). */
  journalDir?: string;
  /** After each segment the journal held but the store did not. */
  onUploaded?: (segment: { rendition: string; index: number; cid: string }) => void;
  /**
   * The caller knows the run's producer is gone (a channel's next producer found its lock
   * stale when it recorded the journal): a heartbeat younger than the stall bound is no reason to refuse.
   */
  producerGone?: boolean;
}

export interface ResumeRunResult extends FinalizeRunResult {
  /** Segments uploaded from the journal. */
  uploaded: number;
  /** Where the journal was (removed when the run ended complete), if the run had one. */
  journal?: string;
  /** Journaled segments that could not be read (by MSN): the run ended failed without them and the journal stays. */
  missing: MissingSegment[];
}

/** The run's producer is alive: resuming would publish ENDLIST under it and delete its journal. */
export class RunAliveError extends AbrcastError {
  constructor(runId: string, detail: string) {
    super(`Run ${JSON.stringify(runId)} is still being produced (${detail}); stop its producer first, or wait until it is stalled`);
    this.name = 'RunAliveError';
  }
}

/** Another resume (or the stale-run sweeper) is working on the run. */
export class RunLockedError extends AbrcastError {
  constructor(runId: string, holder: string | undefined) {
    super(`Run ${JSON.stringify(runId)} is being completed by ${holder ?? 'another process'}; try again when it is done`);
    this.name = 'RunLockedError';
  }
}

/** How long a resume's lease lasts without renewal; it is renewed at a third of this while it works. */
export const RESUME_LEASE_MS = 60_000;

/**
 * Holds the run's lease in the registry for `holder` while `work` runs (renewed on a
 * timer); rejects with RunLockedError while another holder has it.
 */
export async function withRunLease<T>(registry: ResumableRegistry, runId: string, holder: string, work: () => Promise<T>): Promise<T> {
  if (!registry.acquireRunLock) return work();
  if (!(await registry.acquireRunLock(runId, holder, RESUME_LEASE_MS))) {
    throw new RunLockedError(runId, await registry.runLockHolder?.(runId));
  }
  const renew = setInterval(() => void registry.acquireRunLock!(runId, holder, RESUME_LEASE_MS).catch(() => undefined), RESUME_LEASE_MS / 3);
  renew.unref();
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await registry.releaseRunLock?.(runId, holder).catch(() => undefined);
  }
}

/** Refuses a live run whose producer sent a heartbeat within the stall bound, unless its death is known. */
async function refuseLiveProducer(registry: ResumableRegistry, runId: string, producerDied: boolean): Promise<void> {
  if (producerDied || !registry.heartbeatAgeMs) return;
  const run = await registry.getRun(runId);
  if (run?.status !== 'live') return;
  const age = await registry.heartbeatAgeMs(runId);
  const bound = stalledAfterMs(run.segmentDuration);
  if (typeof age === 'number' && age < bound) {
    throw new RunAliveError(runId, `its last heartbeat was ${(age / 1000).toFixed(1)} s ago; a run is stalled after ${bound / 1000} s without one`);
  }
}

export async function resumeRun(options: ResumeRunOptions): Promise<ResumeRunResult> {
  return guarded(options, true, async (journal) =>
    journal ? completeFromJournal(options, journal, true) : { ...(await finalizeRun(options)), uploaded: 0, missing: [] },
  );
}

/**
 * The first half of resumeRun, under the same guards: uploads and records what the run's
 * journal holds, without final playlists (a channel's next producer does this for the run
 * it continues, and finalizes that run once the channel moved on). The journal stays.
 */
export async function recordJournal(options: ResumeRunOptions): Promise<Omit<ResumeRunResult, keyof FinalizeRunResult> | undefined> {
  return guarded(options, false, async (journal) => (journal ? completeFromJournal(options, journal, false) : undefined));
}

/** Runs `work` with the run's journal (if any) under the journal lock and the run's lease, once its producer is known dead. */
async function guarded<T>(options: ResumeRunOptions, lease: boolean, work: (journal?: SegmentJournal) => Promise<T>): Promise<T> {
  const { registry, runId } = options;
  const holder = `resume ${process.pid}@${hostname()}`;
  const journal = await SegmentJournal.open(options.journalDir ?? defaultJournalDir(), runId);
  let lock: JournalLock | undefined;
  try {
    // A live producer (or resume) of this run on this machine holds the journal: JournalLockedError.
    if (journal) lock = await JournalLock.acquire(journal.dir, 'resume');
    await refuseLiveProducer(registry, runId, options.producerGone === true || lock?.replaced !== undefined);
    return await (lease ? withRunLease(registry, runId, holder, () => work(journal)) : work(journal));
  } finally {
    await lock?.release();
    await journal?.close();
  }
}

async function completeFromJournal(options: ResumeRunOptions, journal: SegmentJournal, finalize: true): Promise<ResumeRunResult>;
async function completeFromJournal(options: ResumeRunOptions, journal: SegmentJournal, finalize: false): Promise<Omit<ResumeRunResult, keyof FinalizeRunResult>>;
async function completeFromJournal(options: ResumeRunOptions, journal: SegmentJournal, finalize: boolean): Promise<Omit<ResumeRunResult, keyof FinalizeRunResult>> {
  const { registry, runId } = options;
  const msnBase = journal.run.msnBase ?? 0;
  // Before anything is uploaded: an encrypted run without the server secret is refused here.
  const resources = await resumeResources(options);
  let uploaded = 0;
  const unreadable: { segment: JournalSegment; reason: string }[] = [];
  const segments = journal.segments();
  for (const segment of segments) {
    if (segment.cid !== undefined) continue;
    let bytes: Buffer;
    try {
      bytes = await journal.read(segment);
    } catch (error) {
      // One bad file must not cost the rest of the run: reported missing, the others go on.
      unreadable.push({ segment, reason: errorMessage(error) });
      continue;
    }
    const cid = await resources.add({ kind: 'segment', rendition: segment.rendition, index: segment.index }, bytes);
    await journal.markUploaded(segment, cid);
    options.onUploaded?.({ rendition: segment.rendition, index: segment.index, cid });
    uploaded += 1;
  }
  const recorded = new Set((await registry.listSegments(runId)).map((s) => `${s.rendition}/${s.index}/${s.cid}`));
  for (const { rendition, index, cid, duration, bytes } of segments) {
    if (cid === undefined) continue;
    const msn = msnBase + index;
    if (recorded.has(`${rendition}/${msn}/${cid}`)) continue;
    const key = await resources.keyOf({ kind: 'segment', rendition, index });
    await registry.recordSegment(runId, { rendition, index: msn, cid, duration, bytes, ...(key ? { key } : {}) });
  }
  const missing = unreadable.map(({ segment }) => ({ rendition: segment.rendition, index: msnBase + segment.index }));
  if (!finalize) return { uploaded, journal: journal.dir, missing };
  const codecs = new Map(segments.map((segment) => [segment.rendition, segment.codecs]));
  const { run } = journal;
  const failure = unreadable.length === 0 ? undefined : {
    error: `${unreadable.length} journaled segment(s) could not be read: ${unreadable.slice(0, 5).map(({ segment, reason }) => `${segment.rendition}/${segment.index} (${reason})`).join('; ')}${unreadable.length > 5 ? '; …' : ''}`,
    missing,
  };
  const result = await finalizeRun({
    ...options,
    ...(failure ? { failure } : {}),
    journal: {
      startedAt: new Date(run.startedAt),
      segmentUrl: run.segmentUrl,
      playlistUrl: run.playlistUrl,
      renditions: run.renditions.map((rendition) => ({ ...rendition, codecs: codecs.get(rendition.name) ?? '' })),
    },
  });
  // Kept while something is missing: a later resume (the file readable again) completes the run.
  if (!failure) await journal.remove();
  return { ...result, uploaded, journal: journal.dir, missing };
}

/** Where the journal's segments go: the store as it is, or through the run's cipher for an encrypted run. */
async function resumeResources(options: ResumeRunOptions): Promise<ResourceStore> {
  const { registry, store, runId } = options;
  const run = await registry.getRun(runId);
  if (!run?.encryption) return new ResourceStore(store);
  const secrets = resolveSecrets(options.keySecret, 'keySecret');
  if (!secrets) throw new AbrcastError(`Run ${runId} is encrypted: resuming it needs the server secret its keys are wrapped with (ABRCAST_KEY_SECRET)`);
  if (!registry.putRunKey) throw new AbrcastError(`Run ${runId} is encrypted: resuming it needs a registry that keeps keys`);
  const keys = new RunKeys({ registry: { putRunKey: registry.putRunKey.bind(registry) }, runId: () => runId, secrets });
  // The container by the run's init segments (fMP4 has them); the leading block differs per container.
  const container = Object.keys((await registry.getInitSegments?.(runId)) ?? {}).length > 0 ? 'fmp4' : 'ts';
  return new ResourceStore(store, new ResourceCipher({ container, keyRotation: run.keyRotation ?? undefined, keyFor: (index) => keys.key(index) }));
}
