// `npm run bench -- --case publish|endpoint|soak`: runs the case on each setup in
// turn (each on a fresh server, registry and store), prints the table and writes
// bench/results/<date>-<host>-<case>[-quick][-tag].json.
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';

import { loadNativeAddon } from '../src/native/binding.js';
import type { ServiceCaseConfig } from './config.js';
import { measureEndpoint, type EndpointResult } from './endpoint-load.js';
import { makeFrameRing } from './frames.js';
import { describeMachine } from './machine.js';
import { measurePublish, type PublishSetupResult } from './publish-latency.js';
import { formatServiceTables, type ServiceReport, type SkippedSetup } from './service-report.js';
import { openSetup, SETUP_LABELS, setupUnavailable } from './service-setup.js';
import { measureSoak, type SoakSetupResult } from './soak.js';
import { log } from './log.js';

/** Distinct source frames, cycled: enough motion for realistic segment sizes, cheap to make. */
const RING_FRAMES = 30;


async function writeReport(report: ServiceReport, config: ServiceCaseConfig): Promise<string> {
  await mkdir(config.outDir, { recursive: true });
  const host = report.machine.host.replace(/[^A-Za-z0-9._-]/g, '-');
  const name = [report.date, host, config.case, ...(config.quick ? ['quick'] : []), ...(config.tag ? [config.tag] : [])].join('-');
  const path = join(config.outDir, `${name}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

export async function benchServiceCase(config: ServiceCaseConfig): Promise<void> {
  const machine = await describeMachine();
  const startedAt = new Date();
  log(`bench: --case ${config.case} on ${config.setups.join(', ')}`);
  log(`bench: ${machine.nproc} x ${machine.cpuModel}, load ${machine.loadAverage.join(' ')}`);
  const ring = makeFrameRing(config.width, config.height, Math.min(RING_FRAMES, Math.round(config.fps * config.segmentSeconds)));
  loadNativeAddon(); // once, before anything is timed

  const skipped: SkippedSetup[] = [];
  const publish: PublishSetupResult[] = [];
  const endpoint: EndpointResult[] = [];
  const soak: SoakSetupResult[] = [];
  for (const id of config.setups) {
    const unavailable = setupUnavailable(id);
    if (unavailable) {
      log(`bench: skipping ${id} (${SETUP_LABELS[id]}): ${unavailable}`);
      skipped.push({ setup: id, label: SETUP_LABELS[id], reason: unavailable });
      continue;
    }
    const setup = await openSetup(id);
    try {
      if (config.case === 'soak') {
        soak.push(await measureSoak(config, setup, log));
      } else if (config.case === 'publish') {
        const result = await measurePublish(config, setup, ring);
        publish.push(result);
        const l = result.latencyMs.readyToServed;
        log(`bench: ${id.padEnd(14)} ${result.segments} segments, ready → served p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`);
      } else {
        for (const result of await measureEndpoint(config, setup, ring)) {
          endpoint.push(result);
          log(
            `bench: ${id.padEnd(14)} ${result.route.padEnd(8)} ${result.requests.perSecondMean.toFixed(0)} req/s, ` +
              `latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, non-2xx ${result.non2xx}`,
          );
        }
      }
    } finally {
      await setup.close();
    }
  }
  if (skipped.length === config.setups.length) throw new Error(`no setup could run here: ${skipped.map((s) => s.reason).join('; ')}`);

  const { json: _json, outDir: _outDir, ...kept } = config;
  const base = {
    schema: 1 as const,
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    skipped,
  };
  const report: ServiceReport = kept.case === 'soak'
    ? { ...base, case: 'soak', config: kept, setups: soak }
    : kept.case === 'publish'
      ? { ...base, case: 'publish', config: kept, setups: publish }
      : { ...base, case: 'endpoint', config: kept, results: endpoint };
  const written = await writeReport(report, config);
  const tables = formatServiceTables(report);
  if (config.json) {
    log(`\n${tables}\n\nwrote ${written}`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${tables}\n\nwrote ${written}\n`);
  }
}
