#!/usr/bin/env node
// Makes dist/pglite-seed (a PGlite data directory after initdb and every
// migration) for the embedded registry's first open; run by `npm run build:ts`
// after tsc. Skips the work when the seed there is already the current one.
import { SEED_DIR } from '../dist/registry/pglite-seed.js';
import { currentSeed, makePgliteSeed } from '../dist/registry/pglite-seed-maker.js';

if (currentSeed(SEED_DIR)) {
  console.log(`pglite seed: ${SEED_DIR} is current`);
} else {
  const started = performance.now();
  const manifest = await makePgliteSeed(SEED_DIR);
  const versions = manifest.migrations.map((m) => m.version).join(',');
  console.log(`pglite seed: made ${SEED_DIR} (PGlite ${manifest.pglite}, migrations ${versions}) in ${Math.round(performance.now() - started)} ms`);
}
