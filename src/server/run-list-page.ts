// The server's front page: recent runs with links to watch them.
import type { RunRecord } from '../registry/run-records.js';
import { escapeHtml, PAGE_STYLE } from './page-style.js';
import { isStalled } from '../model/heartbeat.js';

function row(run: RunRecord): string {
  const id = escapeHtml(run.id);
  const qualities = Object.keys(run.qualityPlaylists).length;
  const channel = run.channel === null ? '' : `\n      <a class="muted" href="/channels/${escapeHtml(run.channel)}/watch">channel ${escapeHtml(run.channel)}</a>`;
  const stalled = isStalled(run) ? '\n      <span class="badge failed" title="no heartbeat from its producer">stalled</span>' : '';
  return `<li class="card">
      <a class="mono run" href="/runs/${id}/watch">${id}</a>
      <span class="badge ${escapeHtml(run.status)}">${escapeHtml(run.status)}</span>${stalled}${channel}
      <span class="muted">${run.width}×${run.height} · ${run.fps} fps · ${qualities} qualit${qualities === 1 ? 'y' : 'ies'}</span>
      <time class="muted" datetime="${run.createdAt.toISOString()}">${escapeHtml(run.createdAt.toISOString().replace('T', ' ').slice(0, 19))} UTC</time>
    </li>`;
}

export function runListHtml(runs: RunRecord[]): string {
  const list = runs.length > 0 ? `<ul class="runs">${runs.map(row).join('\n    ')}</ul>` : '<p class="muted">No runs yet.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>abrcast runs</title>
<style>${PAGE_STYLE}
  .runs { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
  .runs li { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; }
  .runs .run { font-weight: 650; }
</style>
</head>
<body>
<main>
  <header><span class="brand">abrcast</span><h1>Runs</h1></header>
  ${list}
</main>
</body>
</html>
`;
}
