// `abrcast runs`: the newest runs in the registry, as a table or as JSON.
import type { ServiceConfig } from '../config.js';
import { EXIT_CODES, type ExitCode } from '../errors.js';
import { openConfiguredRegistry } from '../open-services.js';
import type { Reporter } from '../reporter.js';
import { isStalled } from '../../model/heartbeat.js';
import type { RunRecord } from '../../registry/run-records.js';

function localTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

export function runsTable(runs: RunRecord[]): string[] {
  return formatTable(
    ['ID', 'STATUS', 'SIZE', 'FPS', 'CREATED', 'MASTER CID', 'CHANNEL'],
    runs.map((run) => [
      run.id,
      // A live run whose producer stopped sending heartbeats (docs/channels.md).
      isStalled(run) ? 'live (stalled)' : run.status,
      `${run.width}x${run.height}`,
      String(run.fps),
      localTime(run.createdAt),
      run.masterCid ?? '-',
      run.channel ?? '-',
    ]),
  );
}

export async function runRuns(config: ServiceConfig, limit: number, reporter: Reporter): Promise<ExitCode> {
  const registry = await openConfiguredRegistry(config);
  try {
    const runs = await registry.listRuns({ limit });
    if (reporter.json) {
      reporter.data(runs);
    } else if (runs.length === 0) {
      reporter.essential('No runs yet: start one with `abrcast demo`.');
    } else {
      for (const line of runsTable(runs)) reporter.essential(line);
    }
    return EXIT_CODES.ok;
  } finally {
    await registry.close().catch(() => {});
  }
}
