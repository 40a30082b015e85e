// Completes a run whose publisher crashed or gave up (`abrcast resume <run>`):
// uploads every segment its journal holds that the store lacks, records all of
// them in the registry (recordSegment is idempotent), then ends the run with
// finalizeRun, and removes the journal. Without a journal it is finalizeRun.
// An encrypted run's segments are encrypted as the live publisher would have
// (the same keys from the registry, the same IVs: the very same bytes and CIDs),
// so nothing clear reaches the store; that needs the server secret.
import { AbrcastError } from '../errors.js';
import { defaultJournalDir, SegmentJournal } from '../journal/segment-journal.js';
import { finalizeRun, type FinalizableRegistry, type FinalizeRunOptions, type FinalizeRunResult } from './finalize-run.js';
import type { RunRecorder } from '../model/run-recorder.js';
import { resolveSecrets, type SecretInput } from '../crypto/server-secret.js';
import { ResourceCipher } from './resource-cipher.js';
import { ResourceStore } from './resource-store.js';
import { RunKeys } from './run-keys.js';

export interface ResumeRunOptions extends Omit<FinalizeRunOptions, 'journal' | 'registry'> {
  registry: FinalizableRegistry & Pick<RunRecorder, 'recordSegment' | 'putRunKey'>;
  /** An encrypted run's server secret (default: ABRCAST_KEY_SECRET), the one its keys are wrapped with. */
  keySecret?: SecretInput;
  /** Parent of the run journals (default ~/.abrcast/journal). */
  journalDir?: string;
  /** After each segment the journal held but the store did not. */
  onUploaded?: (segment: { rendition: string; index: number; cid: string }) => void;
}

export interface ResumeRunResult extends FinalizeRunResult {
  /** Segments uploaded from the journal. */
  uploaded: number;
  /** Where the journal was (now removed), if the run had one. */
  journal?: string;
}

export async function resumeRun(options: ResumeRunOptions): Promise<ResumeRunResult> {
  const { registry, store, runId } = options;
  const journal = await SegmentJournal.open(options.journalDir ?? defaultJournalDir(), runId);
  if (!journal) return { ...(await finalizeRun(options)), uploaded: 0 };
  try {
    let uploaded = 0;
    const segments = journal.segments();
    const resources = await resumeResources(options);
    for (const segment of segments) {
      if (segment.cid !== undefined) continue;
      const bytes = await journal.read(segment).catch((error: Error) => {
        throw new AbrcastError(`Segment ${segment.rendition}/${segment.index} of journal ${journal.dir} cannot be read: ${error.message}`);
      });
      const cid = await resources.add({ kind: 'segment', rendition: segment.rendition, index: segment.index }, bytes);
      await journal.markUploaded(segment, cid);
      options.onUploaded?.({ rendition: segment.rendition, index: segment.index, cid });
      uploaded += 1;
    }
    const recorded = new Set((await registry.listSegments(runId)).map((s) => `${s.rendition}/${s.index}/${s.cid}`));
    for (const { rendition, index, cid, duration, bytes } of segments) {
      if (recorded.has(`${rendition}/${index}/${cid}`)) continue;
      const key = await resources.keyOf({ kind: 'segment', rendition, index });
      await registry.recordSegment(runId, { rendition, index, cid: cid!, duration, bytes, ...(key ? { key } : {}) });
    }
    const codecs = new Map(segments.map((segment) => [segment.rendition, segment.codecs]));
    const { run } = journal;
    const result = await finalizeRun({
      ...options,
      journal: {
        startedAt: new Date(run.startedAt),
        segmentUrl: run.segmentUrl,
        playlistUrl: run.playlistUrl,
        renditions: run.renditions.map((rendition) => ({ ...rendition, codecs: codecs.get(rendition.name) ?? '' })),
      },
    });
    await journal.remove();
    return { ...result, uploaded, journal: journal.dir };
  } finally {
    await journal.close();
  }
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
