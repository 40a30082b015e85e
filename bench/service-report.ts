// The JSON reports and markdown tables of the service cases (publish, endpoint, soak).
import type { EndpointBenchConfig, PublishBenchConfig, SetupId, SoakBenchConfig } from './config.js';
import type { EndpointResult } from './endpoint-load.js';
import type { MachineInfo } from './machine.js';
import type { PublishSetupResult } from './publish-latency.js';
import type { SoakSetupResult } from './soak.js';
import type { Percentiles } from './stats.js';

export interface SkippedSetup {
  setup: SetupId;
  label: string;
  reason: string;
}

interface ServiceReportBase {
  schema: 1;
  date: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** The machine is shared: load at the end too, next to machine.loadAverage at the start. */
  loadAverageAtEnd: number[];
  skipped: SkippedSetup[];
}

export interface PublishReport extends ServiceReportBase {
  case: 'publish';
  config: Omit<PublishBenchConfig, 'json' | 'outDir'>;
  setups: PublishSetupResult[];
}

export interface EndpointReport extends ServiceReportBase {
  case: 'endpoint';
  config: Omit<EndpointBenchConfig, 'json' | 'outDir'>;
  results: EndpointResult[];
}

export interface SoakReport extends ServiceReportBase {
  case: 'soak';
  config: Omit<SoakBenchConfig, 'json' | 'outDir'>;
  setups: SoakSetupResult[];
}

export type ServiceReport = PublishReport | EndpointReport | SoakReport;

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function p50p99(p: Percentiles): string {
  return `${p.p50.toFixed(1)} / ${p.p99.toFixed(1)}`;
}

function describeStream(c: ServiceReport['config']): string {
  const ladder = c.renditions.map((r) => `${r.name} ${r.width}x${r.height}@${r.bitrate}k`).join(', ');
  return `${c.width}x${c.height} rgb24 @ ${c.fps} fps → ${ladder}; x264 ${c.preset}, ${c.segmentSeconds} s segments`;
}

function header(report: ServiceReport): string {
  const m = report.machine;
  return `${report.date}, ${m.host}: ${m.nproc} x ${m.cpuModel}, load ${m.loadAverage.join(' ')} at start, ` +
    `${report.loadAverageAtEnd.join(' ')} at end; Node ${m.node}`;
}

function skippedLines(report: ServiceReport): string[] {
  return report.skipped.map((s) => `Skipped ${s.setup} (${s.label}): ${s.reason}`);
}

export function formatPublishTables(report: PublishReport): string {
  const c = report.config;
  const rows = report.setups.map((s) => [
    `${s.setup} (${s.label})`,
    String(s.segments),
    p50p99(s.latencyMs.readyToServed),
    s.latencyMs.readyToServed.max.toFixed(1),
    p50p99(s.latencyMs.readyToUploaded),
    p50p99(s.latencyMs.uploadedToPublished),
    p50p99(s.latencyMs.publishedToServed),
  ]);
  return [
    header(report),
    `${describeStream(c)}; ${c.seconds} s of frames at wall-clock pace per setup; served playlists polled every ${c.pollMs} ms over HTTP`,
    '',
    'Milliseconds, p50 / p99 (nearest rank) over every segment of every rendition. Ready: the \'segment\' event; ' +
      'uploaded: the \'uploaded\' event; registry: the first \'publish\' (recorded in the registry) that lists it; ' +
      `served: the first poll of /runs/:id/quality/:name/playlist.m3u8 whose answer lists it (includes up to ${c.pollMs} ms of polling delay).`,
    '',
    table(['setup', 'segments', 'ready → served', 'max', 'ready → uploaded', 'uploaded → registry', 'registry → served'], rows),
    ...(report.skipped.length > 0 ? ['', ...skippedLines(report)] : []),
  ].join('\n');
}

export function formatEndpointTables(report: EndpointReport): string {
  const c = report.config;
  const rows = report.results.map((r) => [
    `${r.setup} (${r.label})`,
    r.route === 'quality' ? 'quality/:name/playlist.m3u8' : 'master.m3u8',
    r.requests.perSecondMean.toFixed(0),
    r.requests.perSecondP50.toFixed(0),
    `${r.latencyMs.mean.toFixed(2)} / ${r.latencyMs.p50} / ${r.latencyMs.p99}`,
    r.latencyMs.max.toFixed(0),
    String(r.requests.total),
    String(r.non2xx),
    String(r.errors),
  ]);
  return [
    header(report),
    `autocannon (one worker thread), ${c.connections} connections x ${c.seconds} s per route on 127.0.0.1, against a finished ` +
      `${c.runSeconds} s run: ${describeStream(c)}`,
    '',
    'req/s over one-second samples; latency: autocannon records whole milliseconds, so p50 0 means under 1 ms.',
    '',
    table(['setup', 'route', 'req/s mean', 'req/s p50', 'latency ms mean / p50 / p99', 'max ms', 'requests', 'non-2xx', 'errors'], rows),
    ...(report.skipped.length > 0 ? ['', ...skippedLines(report)] : []),
  ].join('\n');
}

export function formatSoakTables(report: SoakReport): string {
  const c = report.config;
  const rows = report.setups.flatMap((s) =>
    s.checkpoints.map((p) => [
      `${s.setup} (${s.label})`,
      `${(p.simulatedSeconds / 3600).toFixed(2)} h (${p.segments})`,
      p.wallSeconds.toFixed(0),
      p.storeOverSegments.toFixed(3),
      p.rssMiB.toFixed(0),
      p.publishLatencyMs.p99.toFixed(1),
      p.routeLatencyMs.playlist.p99.toFixed(2),
      p.routeLatencyMs.runStatus.p99.toFixed(2),
      `${p.playlistBytes.plain} / ${p.playlistBytes.gzip}`,
      String(p.archiveChunks),
    ]),
  );
  const verdict = (name: string, check: { value: number; limit: number; pass: boolean }) =>
    `${name} ${check.value} (limit ${check.limit}) ${check.pass ? 'ok' : 'OVER'}`;
  const checks = report.setups.map((s) =>
    `${s.setup}: ` + [
      verdict('store/segments', s.checks.storeOverSegments),
      verdict('RSS end/first hour', s.checks.rssGrowth),
      verdict('publish p99 end/first hour', s.checks.publishLatencyGrowth),
      verdict('playlist p99 end/first hour', s.checks.playlistLatencyGrowth),
      `gzip/plain ${s.checks.playlistGzipRatio.value}; ${s.wallSeconds} s wall, load ${s.load.start.join(' ')} → ${s.load.end.join(' ')}`,
    ].join('; '),
  );
  return [
    header(report),
    `A channel (window ${c.windowSeconds} s, archive chunks of ${c.archiveSeconds} s, LL-HLS parts of ${c.partFrames} frames at ${c.fps} fps) ` +
      `of ${c.minutes} simulated minutes (${(c.minutes * 60) / c.segmentSeconds} segments per rendition, ${c.renditions.map((r) => r.name).join(', ')}), ` +
      'fed synthetic segments and parts as fast as the publisher, registry and store take them (the encoder is idle).',
    '',
    'Store: bytes added to the store over segment bytes (Kubo: after repo gc). RSS: this process (publisher, server, registry), after a full GC. ' +
      `Publish: segment event → first publish listing it, p99 ms over ${c.probeSegments} segments fed at wall-clock pace after the backlog drained. ` +
      `Playlist: p99 ms of ${c.routeSamples} GETs of the channel's top media playlist as an LL blocking reload already satisfied ` +
      '(Accept-Encoding: gzip), and of /runs/{id}. Playlist bytes: one answer, plain / gzip.',
    '',
    table(['setup', 'media', 'wall s', 'store/segments', 'RSS MiB', 'publish p99', 'playlist p99', 'GET /runs/:id p99', 'playlist B plain / gzip', 'archive chunks'], rows),
    '',
    ...checks,
    ...(report.skipped.length > 0 ? ['', ...skippedLines(report)] : []),
  ].join('\n');
}

export function formatServiceTables(report: ServiceReport): string {
  if (report.case === 'soak') return formatSoakTables(report);
  return report.case === 'publish' ? formatPublishTables(report) : formatEndpointTables(report);
}
