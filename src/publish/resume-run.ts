// Completes a run whose publisher crashed or gave up (`abrcast resume <run>`):
// uploads every segment its journal holds that the store lacks, records all of
// them in the registry (recordSegment is idempotent), then ends the run with
// finalizeRun, and removes the journal. Without a journal it is finalizeRun.
import { AbrcastError } from '../errors.js';
import { defaultJournalDir, SegmentJournal } from '../journal/segment-journal.js';
import { finalizeRun, type FinalizableRegistry, type FinalizeRunOptions, type FinalizeRunResult } from './finalize-run.js';
import type { RunRecorder } from '../model/run-recorder.js';

export interface ResumeRunOptions extends Omit<FinalizeRunOptions, 'journal' | 'registry'> {
  registry: FinalizableRegistry & Pick<RunRecorder, 'recordSegment'>;
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
    for (const segment of segments) {
      if (segment.cid !== undefined) continue;
      const bytes = await journal.read(segment).catch((error: Error) => {
        throw new AbrcastError(`Segment ${segment.rendition}/${segment.index} of journal ${journal.dir} cannot be read: ${error.message}`);
      });
      const cid = await store.add(bytes);
      await journal.markUploaded(segment, cid);
      options.onUploaded?.({ rendition: segment.rendition, index: segment.index, cid });
      uploaded += 1;
    }
    const recorded = new Set((await registry.listSegments(runId)).map((s) => `${s.rendition}/${s.index}/${s.cid}`));
    for (const { rendition, index, cid, duration, bytes } of segments) {
      if (!recorded.has(`${rendition}/${index}/${cid}`)) await registry.recordSegment(runId, { rendition, index, cid: cid!, duration, bytes });
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
