// `abrcast rewrap-keys`: after a new server secret is deployed (ABRCAST_KEY_SECRET
// the new one, ABRCAST_KEY_SECRET_PREVIOUS the old), wraps every run key in the
// registry under the new secret, so the old one can then be dropped everywhere.
// Keys already under the new secret are left as they are; a key another process
// changed meanwhile is skipped (and found again by the next run of the command).
import { unwrapRunKey, wrappingSecretId, wrapRunKey } from '../../crypto/key-wrap.js';
import { secretsFromEnvironment } from '../../crypto/server-secret.js';
import { openConfiguredRegistry } from '../open-services.js';
import type { ServiceConfig } from '../config.js';
import { EXIT_CODES, type ExitCode } from '../errors.js';
import type { Reporter } from '../reporter.js';

const BATCH = 500;

export async function runRewrapKeys(config: ServiceConfig, reporter: Reporter): Promise<ExitCode> {
  const secrets = secretsFromEnvironment()!;
  const registry = await openConfiguredRegistry(config);
  const counts = { rewrapped: 0, current: 0, changed: 0 };
  try {
    let after: { runId: string; index: number } | undefined;
    for (;;) {
      const keys = await registry.listRunKeys(after, BATCH);
      for (const { runId, index, wrapped } of keys) {
        if (wrappingSecretId(wrapped) === secrets.current.id) {
          counts.current += 1;
          continue;
        }
        const slot = { runId, index };
        const replaced = await registry.replaceRunKey(runId, index, wrapped, wrapRunKey(unwrapRunKey(wrapped, secrets, slot), secrets, slot));
        counts[replaced ? 'rewrapped' : 'changed'] += 1;
      }
      if (keys.length < BATCH) break;
      after = keys[keys.length - 1];
    }
  } finally {
    await registry.close();
  }
  reporter.event('end', counts);
  reporter.essential(`${counts.rewrapped} key(s) re-wrapped under the current secret (${secrets.current.id}); ${counts.current} already were`);
  if (counts.changed > 0) reporter.info(`${counts.changed} key(s) changed meanwhile and were left: run the command again`);
  return EXIT_CODES.ok;
}
