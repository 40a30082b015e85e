// `abrcast finalize <id>`: ends a run whose publisher died, rebuilding its final
// (ENDLIST) playlists from the segments the registry recorded.
import { finalizeRun } from '../../publish/finalize-run.js';
import type { ServiceConfig } from '../config.js';
import { CliError, EXIT_CODES, type ExitCode } from '../errors.js';
import { openServices } from '../open-services.js';
import type { Reporter } from '../reporter.js';

export async function runFinalize(
  runId: string,
  config: ServiceConfig,
  gateway: string | undefined,
  reporter: Reporter,
): Promise<ExitCode> {
  // The demo and serve write local gateway paths; a run published for a public gateway keeps that form with --gateway.
  const urlTemplate = gateway === undefined ? '/ipfs/{cid}' : '{gateway}/ipfs/{cid}';
  const services = await openServices(config);
  try {
    const run = await services.registry.getRun(runId);
    if (!run) throw new CliError(`Run "${runId}" does not exist`, { fix: 'List the runs with `abrcast runs`' });
    if (run.status === 'ended') {
      reporter.info(`Run ${runId} already ended; nothing to do.`);
      reporter.event('end', { runId, masterCid: run.masterCid, alreadyEnded: true });
      if (run.masterCid) reporter.essential(`Master playlist: ${run.masterCid}`);
      return EXIT_CODES.ok;
    }
    if (run.status === 'failed') {
      throw new CliError(`Run "${runId}" failed (${run.error ?? 'no reason recorded'}) and cannot be finalized`, {
        fix: 'Only a live run whose publisher stopped can be finalized',
      });
    }
    const result = await finalizeRun({
      registry: services.registry,
      store: services.store,
      runId,
      segmentUrl: urlTemplate,
      playlistUrl: urlTemplate,
      gateway: gateway,
    });
    reporter.info(`Run ${runId} finalized: ${Object.keys(result.qualities).join(', ')}`);
    reporter.essential(`Master playlist: ${result.masterCid}`);
    reporter.event('end', { runId, masterCid: result.masterCid, qualities: result.qualities });
    return EXIT_CODES.ok;
  } finally {
    await services.close();
  }
}
