// `abrcast resume <id>` (also `abrcast finalize <id>`): completes a run whose
// publisher crashed or gave up: uploads what its journal holds, then rebuilds
// its final (ENDLIST) playlists from the segments the registry recorded.
import { SegmentJournal } from '../../journal/segment-journal.js';
import { JournalLockedError } from '../../journal/journal-lock.js';
import { resumeRun, RunAliveError, RunLockedError } from '../../publish/resume-run.js';
import type { ServiceConfig } from '../config.js';
import { CliError, EXIT_CODES, type ExitCode } from '../errors.js';
import { journalDir, openServices } from '../open-services.js';
import type { Reporter } from '../reporter.js';

export async function runFinalize(
  runId: string,
  config: ServiceConfig,
  gateway: string | undefined,
  reporter: Reporter,
): Promise<ExitCode> {
  // Without --gateway the run's own URL templates are used (older runs: the local /ipfs/<cid> form).
  const urlTemplate = gateway === undefined ? undefined : '{gateway}/ipfs/{cid}';
  const services = await openServices(config);
  try {
    const run = await services.registry.getRun(runId);
    if (!run) throw new CliError(`Run "${runId}" does not exist`, { fix: 'List the runs with `abrcast runs`' });
    if (run.status === 'ended') {
      // A crash between the run's end and its journal's removal leaves a journal with nothing left to do.
      const journal = await SegmentJournal.open(journalDir(config), runId);
      if (journal && journal.segments().every((segment) => segment.cid !== undefined)) await journal.remove();
      else await journal?.close();
      reporter.info(`Run ${runId} already ended; nothing to do.`);
      reporter.event('end', { runId, masterCid: run.masterCid, alreadyEnded: true });
      if (run.masterCid) reporter.essential(`Master playlist: ${run.masterCid}`);
      return EXIT_CODES.ok;
    }
    const result = await resumeRun({
      registry: services.registry,
      store: services.store,
      runId,
      journalDir: journalDir(config),
      ...(urlTemplate ? { segmentUrl: urlTemplate, playlistUrl: urlTemplate } : {}),
      gateway,
      onUploaded: (segment) => reporter.event('uploaded', { runId, ...segment }),
    }).catch((error: unknown) => {
      if (error instanceof RunAliveError || error instanceof JournalLockedError) {
        throw new CliError(error.message, { fix: 'Stop the producer (Ctrl-C ends the run cleanly), or wait until the run shows as stalled', cause: error });
      }
      if (error instanceof RunLockedError) throw new CliError(error.message, { fix: 'Wait for the other resume to finish', cause: error });
      throw error;
    });
    if (result.missing.length > 0) {
      reporter.event('end', { runId, masterCid: result.masterCid, qualities: result.qualities, uploaded: result.uploaded, missing: result.missing });
      throw new CliError(
        `Run ${runId} ended failed: ${result.missing.length} journaled segment(s) could not be read ` +
          `(${result.missing.slice(0, 5).map((m) => `${m.rendition}/${m.index}`).join(', ')}${result.missing.length > 5 ? ', …' : ''}); ` +
          `the playlists list what comes before them`,
        { fix: `The journal stays in ${result.journal}; make the files readable and run \`abrcast resume ${runId}\` again` },
      );
    }
    const uploaded = result.uploaded > 0 ? ` (${result.uploaded} segment(s) uploaded from the journal)` : '';
    reporter.info(`Run ${runId} finalized: ${Object.keys(result.qualities ?? {}).join(', ')}${uploaded}`);
    reporter.essential(`Master playlist: ${result.masterCid ?? ''}`);
    reporter.event('end', { runId, masterCid: result.masterCid, qualities: result.qualities, uploaded: result.uploaded });
    return EXIT_CODES.ok;
  } finally {
    await services.close();
  }
}
