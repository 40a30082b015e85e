// The bench's chart (docs/benchmarks.md): hand-written SVG, no dependencies. Two panels of
// horizontal bars, CPU per frame and wall-clock fps, median bar with a
// min–max whisker per pipeline.
import type { BenchReport, PipelineSummary } from './report.js';
import type { Spread } from './stats.js';

const WIDTH = 880;
const LABEL_WIDTH = 150;
const PANEL_GAP = 70;
const PANEL_WIDTH = (WIDTH - LABEL_WIDTH - PANEL_GAP - 50) / 2;
const ROW_HEIGHT = 34;
const BAR_HEIGHT = 20;
const TOP = 96;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

const COLORS: Record<string, string> = {
  abrcast: '#2563eb',
  'abrcast-low-latency': '#93c5fd',
  'abrcast-thumbnails': '#1e40af',
  original: '#9ca3af',
  'one-ffmpeg': '#6b7280',
  floor: '#d1d5db',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum at or above `value` whose quarters are round too. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function format(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function tick(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function panel(
  x0: number,
  title: string,
  pipelines: PipelineSummary[],
  pick: (p: PipelineSummary) => Spread,
): string {
  const max = niceMax(Math.max(...pipelines.map((p) => pick(p).max)));
  const scale = (v: number) => x0 + (v / max) * PANEL_WIDTH;
  const bottom = TOP + pipelines.length * ROW_HEIGHT;
  const parts = [`<text x="${x0}" y="${TOP - 12}" font-size="12" font-weight="600" fill="#111827">${escapeXml(title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const x = scale(v).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${TOP}" x2="${x}" y2="${bottom}" stroke="#e5e7eb"/>`,
      `<text x="${x}" y="${bottom + 14}" font-size="10" fill="#6b7280" text-anchor="middle">${tick(v)}</text>`,
    );
  }
  pipelines.forEach((p, row) => {
    const s = pick(p);
    const y = TOP + row * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const mid = y + BAR_HEIGHT / 2;
    const color = COLORS[p.id] ?? '#6b7280';
    parts.push(
      `<rect x="${x0}" y="${y}" width="${(scale(s.median) - x0).toFixed(1)}" height="${BAR_HEIGHT}" fill="${color}" rx="2"/>`,
      `<line x1="${scale(s.min).toFixed(1)}" y1="${mid}" x2="${scale(s.max).toFixed(1)}" y2="${mid}" stroke="#111827" stroke-width="1.2"/>`,
      `<line x1="${scale(s.min).toFixed(1)}" y1="${mid - 5}" x2="${scale(s.min).toFixed(1)}" y2="${mid + 5}" stroke="#111827" stroke-width="1.2"/>`,
      `<line x1="${scale(s.max).toFixed(1)}" y1="${mid - 5}" x2="${scale(s.max).toFixed(1)}" y2="${mid + 5}" stroke="#111827" stroke-width="1.2"/>`,
      `<text x="${(scale(s.max) + 6).toFixed(1)}" y="${mid + 4}" font-size="11" fill="#111827">${format(s.median)}</text>`,
    );
  });
  return parts.join('\n  ');
}

export function renderChart(report: BenchReport): string {
  const { config: c, machine: m, pipelines } = report;
  const height = TOP + pipelines.length * ROW_HEIGHT + 52;
  const ladder = c.renditions.map((r) => `${r.name} ${r.width}x${r.height} @ ${r.bitrate}k`).join(', ');
  const codec = c.encoder === 'nvenc' ? 'h264_nvenc p4' : `x264 ${c.preset}`;
  const lines = [
    `${c.width}x${c.height} rgb24 @ ${c.fps} fps → ${ladder}`,
    `${codec}, GOP ${c.framesPerSegment} (${c.segmentSeconds} s segments), ${c.scaleAlgorithm} scaling, ${c.frames} frames × ${c.rounds} rounds; bars: median, whiskers: min–max`,
  ];
  const labels = pipelines.map((p, row) => {
    const y = TOP + row * ROW_HEIGHT + ROW_HEIGHT / 2 + 4;
    const weight = p.id === 'abrcast' ? ' font-weight="600"' : '';
    return `<text x="${LABEL_WIDTH - 10}" y="${y}" font-size="12" fill="#111827" text-anchor="end"${weight}>${escapeXml(p.label)}</text>`;
  });
  const left = LABEL_WIDTH;
  const right = LABEL_WIDTH + PANEL_WIDTH + PANEL_GAP;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>
  <rect width="100%" height="100%" fill="#ffffff"/>
  <text x="16" y="24" font-size="15" font-weight="700" fill="#111827">abrcast bench: one encode, every rendition</text>
  <text x="16" y="44" font-size="11" fill="#374151">${escapeXml(lines[0]!)}</text>
  <text x="16" y="60" font-size="11" fill="#374151">${escapeXml(lines[1]!)}</text>
  ${labels.join('\n  ')}
  ${panel(left, 'CPU ms per frame, all processes (lower is better)', pipelines, (p) => p.cpuMsPerFrame)}
  ${panel(right, 'wall-clock fps (higher is better)', pipelines, (p) => p.fps)}
  <text x="16" y="${height - 10}" font-size="10" fill="#6b7280">${escapeXml(`${report.date} · ${m.host} · ${m.nproc} × ${m.cpuModel} · load ${m.loadAverage[0]} at start · Node ${m.node} · ffmpeg ${m.ffmpeg} · compare within one chart only`)}</text>
</svg>
`;
}
