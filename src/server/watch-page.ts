// The watch page: hls.js (served from node_modules, no CDN) on the server's own
// master playlist (a run's, or a channel's stable one), a quality switcher, a
// captions toggle, a seek bar over what the player can seek (video.seekable: the DVR
// window) with the run's date ranges as markers and its thumbnails (thumbnails.vtt)
// shown while scrubbing, live stats, a stalled notice when the producer went silent,
// and the archive: the hourly VOD playlists of a windowed run, each playable in place. lowLatencyMode is on:
// hls.js uses parts, blocking reloads and preload hints only where a playlist
// offers them (EXT-X-PART-INF), and plays a plain playlist as before. The player state is also
// kept on window.abrcast so tests (and curious users) can read it.
import { escapeHtml, PAGE_STYLE } from './page-style.js';

/** What a watch page plays: one run, or a channel (whatever run is current on it). */
export type WatchTarget = { kind: 'run'; id: string } | { kind: 'channel'; name: string };

export function watchPageHtml(watched: WatchTarget): string {
  const name = watched.kind === 'run' ? watched.id : watched.name;
  const id = escapeHtml(name);
  const base = watched.kind === 'run' ? `/runs/${name}` : `/channels/${name}`;
  // Names match the registry's patterns ([a-z0-9_-]); JSON.stringify keeps them plain string literals anyway.
  const baseLiteral = JSON.stringify(base).replace(/</g, '\\u003c');
  const escapedBase = escapeHtml(base);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${id} · abrcast</title>
<style>${PAGE_STYLE}
  .player { position: relative; background: #000; border-radius: 10px; overflow: hidden; aspect-ratio: 16 / 9; }
  .player video { width: 100%; height: 100%; display: block; background: #000; }
  .notice { position: absolute; inset: auto 12px 12px 12px; color: #fff; background: rgba(0,0,0,.65);
    padding: 6px 10px; border-radius: 6px; font-size: .9rem; }
  .notice:empty { display: none; }
  .controls { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin: 12px 0; }
  .controls label { font-weight: 600; }
  .controls select { font: inherit; padding: 6px 10px; border-radius: 8px; border: 1px solid var(--line);
    background: var(--card); color: var(--text); min-width: 190px; }
  .stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; margin: 0; }
  .stats div { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 8px 12px; }
  .stats dt { font-size: .75rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
  .stats dd { margin: 2px 0 0; font-size: 1.05rem; font-weight: 600; font-variant-numeric: tabular-nums; }
  .links { margin-top: 12px; font-size: .9rem; display: flex; gap: 16px; flex-wrap: wrap; }
  .dvr { margin-top: 16px; }
  .dvr h2 { font-size: 1rem; margin: 0 0 8px; }
  .dvr ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
  .dvr button { font: inherit; padding: 4px 10px; border-radius: 8px; border: 1px solid var(--line); background: var(--card); color: var(--text); cursor: pointer; }
  .dvr button[aria-pressed="true"] { border-color: currentColor; font-weight: 650; }
  .controls button { font: inherit; padding: 6px 12px; border-radius: 8px; border: 1px solid var(--line);
    background: var(--card); color: var(--text); cursor: pointer; }
  .controls button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
  .controls button:disabled { opacity: .5; cursor: default; }
  .timeline { position: relative; height: 34px; margin: 10px 0 2px; cursor: pointer; user-select: none; touch-action: none; }
  .timeline .track { position: absolute; left: 0; right: 0; top: 14px; height: 6px; border-radius: 3px; background: var(--line); }
  .timeline .played { position: absolute; left: 0; top: 14px; height: 6px; border-radius: 3px; background: var(--accent); }
  .timeline .marker { position: absolute; top: 8px; width: 4px; height: 18px; margin-left: -2px; border-radius: 2px; background: #f59e0b; }
  .timeline .range { position: absolute; top: 21px; height: 3px; background: rgba(245, 158, 11, .55); }
  .timeline .preview { position: absolute; bottom: 40px; transform: translateX(-50%); background: #000; color: #fff;
    border-radius: 6px; padding: 3px; font-size: .8rem; text-align: center; pointer-events: none; box-shadow: 0 2px 10px rgba(0,0,0,.4); }
  .timeline .preview img { display: block; max-width: 200px; border-radius: 4px; }
  .timeline .preview[hidden] { display: none; }
  .ranges { font-size: .85rem; color: var(--muted); min-height: 1.2em; margin: 0 0 6px; }
</style>
</head>
<body>
<main>
  <header>
    <a class="brand" href="/">abrcast</a>
    <h1 class="mono">${watched.kind === 'channel' ? 'channel ' : ''}${id}</h1>
    <span id="status" class="badge">…</span>
  </header>
  <div class="player">
    <video id="video" muted autoplay playsinline controls></video>
    <div id="notice" class="notice">Loading…</div>
  </div>
  <div id="timeline" class="timeline" role="slider" aria-label="Seek" tabindex="0">
    <div class="track"></div><div id="played" class="played"></div><div id="markers"></div>
    <div id="preview" class="preview" hidden><img id="preview-image" alt=""><span id="preview-time"></span></div>
  </div>
  <p id="ranges" class="ranges"></p>
  <div class="controls">
    <label for="quality">Quality</label>
    <select id="quality"><option value="-1">Auto</option></select>
    <button id="captions" type="button" aria-pressed="false" disabled>Captions</button>
  </div>
  <dl class="stats">
    <div><dt>Level</dt><dd id="stat-level">–</dd></div>
    <div><dt>Buffer</dt><dd id="stat-buffer">–</dd></div>
    <div><dt>Behind live edge</dt><dd id="stat-latency">–</dd></div>
    <div><dt>Latency (PDT)</dt><dd id="stat-pdt-latency">–</dd></div>
    <div><dt>Mode</dt><dd id="stat-mode">–</dd></div>
    <div><dt>Segments</dt><dd id="stat-segments">–</dd></div>
    <div><dt>Bandwidth est.</dt><dd id="stat-bandwidth">–</dd></div>
    <div><dt>Position</dt><dd id="stat-position">–</dd></div>
  </dl>
  <div class="links">
    <a href="${escapedBase}/master.m3u8">Master playlist</a>
    <a href="${escapedBase}">${watched.kind === 'run' ? 'Run' : 'Channel'} status (JSON)</a>
    <a href="/">All runs</a>
  </div>
  <section class="dvr" id="dvr" hidden>
    <h2>Archive (DVR)</h2>
    <ol id="dvr-list"></ol>
  </section>
</main>
<script src="/assets/hls.min.js"></script>
<script>
(() => {
  const base = ${baseLiteral};
  // A playback token in the page's URL (a private channel's: its playlists' URIs carry it on, keys included).
  const token = new URLSearchParams(location.search).get('token');
  const liveSource = base + '/master.m3u8' + (token ? '?token=' + encodeURIComponent(token) : '');
  let source = liveSource;
  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const select = $('quality');
  const notice = (text) => { $('notice').textContent = text; };
  const state = window.abrcast = {
    hls: null, levelUpdates: 0, lastFragmentCount: 0, live: null, endList: false, ended: false,
    loadedLevels: [], bufferedByLevel: {}, errors: [],
    lowLatency: null, pdtLatency: null, stalled: false, archive: [], playing: liveSource,
    // Beyond the picture: subtitle tracks, the captions shown now, date ranges, ID3 samples, thumbnails.
    subtitleTracks: [], captionsOn: false, activeCues: [], dateRanges: {}, metadataSamples: [], thumbnails: [], preview: null,
  };
  const seconds = (value) => (Number.isFinite(value) ? value.toFixed(1) + ' s' : '–');
  const levelLabel = (level) => (level.name ? level.name + ' · ' : '') + level.height + 'p · ' + Math.round(level.bitrate / 1000) + ' kbit/s';

  video.addEventListener('ended', () => { state.ended = true; render(); });
  video.addEventListener('playing', () => notice(''));

  function setStatus(text, kind) { const badge = $('status'); badge.textContent = text; badge.className = 'badge ' + kind; }

  function render() {
    const hls = state.hls;
    if (state.ended) setStatus('ended', 'ended');
    else if (state.playing !== liveSource) setStatus('archive', 'ended');
    else if (state.stalled) setStatus('stalled', 'failed');
    else if (state.live === true) setStatus('live', 'live');
    else if (state.live === false) setStatus('vod', 'ended');
    if (!hls) return;
    const level = hls.levels[hls.currentLevel];
    $('stat-level').textContent = level ? (hls.autoLevelEnabled ? 'Auto → ' : '') + level.width + '×' + level.height : '–';
    let buffer = 0;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= video.currentTime + 0.1 && video.buffered.end(i) > video.currentTime) buffer = video.buffered.end(i) - video.currentTime;
    }
    $('stat-buffer').textContent = seconds(buffer);
    $('stat-latency').textContent = state.live ? seconds(hls.latency) : '–';
    // now − EXT-X-PROGRAM-DATE-TIME of the frame on screen: how far behind the renderer's clock the picture is.
    const playing = hls.playingDate;
    state.pdtLatency = state.live && playing instanceof Date && !video.paused ? (Date.now() - playing.getTime()) / 1000 : null;
    $('stat-pdt-latency').textContent = state.pdtLatency === null ? '–' : state.pdtLatency.toFixed(2) + ' s';
    $('stat-mode').textContent = state.lowLatency === null ? '–' : state.lowLatency ? 'LL-HLS' : 'HLS';
    $('stat-segments').textContent = state.lastFragmentCount ? String(state.lastFragmentCount) : '–';
    $('stat-bandwidth').textContent = Number.isFinite(hls.bandwidthEstimate) ? Math.round(hls.bandwidthEstimate / 1000) + ' kbit/s' : '–';
    $('stat-position').textContent = seconds(video.currentTime) + (Number.isFinite(video.duration) ? ' / ' + seconds(video.duration) : '');
  }

  if (!window.Hls || !Hls.isSupported()) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) { video.src = source; notice(''); }
    else notice('This browser cannot play HLS (no Media Source Extensions).');
    return;
  }

  const hls = new Hls({ enableWorker: true, lowLatencyMode: true });
  state.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    select.length = 1;
    data.levels.forEach((level, index) => select.add(new Option(levelLabel(level), String(index))));
    notice('');
    video.play().catch(() => notice('Press play to start.'));
  });
  hls.on(Hls.Events.LEVEL_LOADED, (_, data) => { if (!state.loadedLevels.includes(data.level)) state.loadedLevels.push(data.level); });
  hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
    state.levelUpdates += 1;
    state.lastFragmentCount = data.details.fragments.length;
    state.live = data.details.live;
    state.lowLatency = data.details.partTarget > 0;
    state.endList = !data.details.live;
    render();
  });
  hls.on(Hls.Events.FRAG_BUFFERED, (_, data) => {
    const level = data.frag.level;
    state.bufferedByLevel[level] = (state.bufferedByLevel[level] || 0) + 1;
  });
  hls.on(Hls.Events.ERROR, (_, data) => {
    state.errors.push(data.details);
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
    // A run that has not published yet answers 404 for its master: try again shortly.
    notice('Waiting for the stream…');
    setTimeout(() => (data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR ? hls.loadSource(source) : hls.startLoad()), 2000);
  });
  select.addEventListener('change', () => { hls.currentLevel = Number(select.value); render(); });

  // DVR: play an archive hour (an immutable VOD master on this server's gateway), or go back to live.
  function play(url) {
    state.playing = url;
    source = url;
    state.ended = false;
    hls.loadSource(url);
    renderArchive();
    render();
  }
  function renderArchive() {
    const list = $('dvr-list');
    list.textContent = '';
    const entries = [{ label: 'Live', url: liveSource }].concat(state.archive.map((chunk) => ({
      label: chunk.startedAt.replace('T', ' ').slice(0, 16) + ' UTC · ' + Math.round(chunk.duration / 60) + ' min', url: chunk.master,
    })));
    for (const entry of entries) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = entry.label;
      button.dataset.url = entry.url;
      button.setAttribute('aria-pressed', String(entry.url === state.playing));
      button.addEventListener('click', () => play(entry.url));
      const item = document.createElement('li');
      item.append(button);
      list.append(item);
    }
    $('dvr').hidden = state.archive.length === 0;
  }
  // The status JSON: whether the producer is stalled, and the archive so far.
  async function poll() {
    try {
      const response = await fetch(base, { cache: 'no-store' });
      if (response.ok) {
        const status = await response.json();
        const stalled = Boolean(status.stalled);
        if (stalled !== state.stalled) notice(stalled ? 'The producer stopped sending; waiting for it to come back…' : '');
        state.stalled = stalled;
        const archive = (status.archive && status.archive.newest) || [];
        if (archive.length !== state.archive.length) { state.archive = archive; renderArchive(); }
      }
    } catch {}
    render();
  }

  // Captions: hls.js renders the chosen subtitle track's cues as a native text track.
  const captionsButton = $('captions');
  function setCaptions(on) {
    state.captionsOn = on && state.subtitleTracks.length > 0;
    hls.subtitleDisplay = state.captionsOn;
    hls.subtitleTrack = state.captionsOn ? 0 : -1;
    captionsButton.setAttribute('aria-pressed', String(state.captionsOn));
  }
  captionsButton.addEventListener('click', () => {
    captionsButton.dataset.touched = '1';
    setCaptions(!state.captionsOn);
  });
  hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, (_, data) => {
    state.subtitleTracks = data.subtitleTracks.map((t) => ({ name: t.name, lang: t.lang }));
    captionsButton.disabled = state.subtitleTracks.length === 0;
    // On by default, as the master's DEFAULT=YES track asks.
    if (state.subtitleTracks.length > 0 && !captionsButton.dataset.touched) setCaptions(true);
  });
  function readCues() {
    const cues = [];
    for (const track of video.textTracks) {
      if (track.mode !== 'showing' || !track.activeCues) continue;
      for (const cue of track.activeCues) cues.push({ text: cue.text, start: cue.startTime, end: cue.endTime });
    }
    state.activeCues = cues;
  }

  // Date ranges (EXT-X-DATERANGE) and in-band ID3 / emsg samples, as hls.js reports them.
  hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
    const ranges = data.details.dateRanges || {};
    for (const id of Object.keys(ranges)) {
      const range = ranges[id];
      state.dateRanges[id] = { id, class: range.class, startTime: range.startTime, duration: range.duration, attr: Object.assign({}, range.attr) };
    }
  });
  hls.on(Hls.Events.FRAG_PARSING_METADATA, (_, data) => {
    for (const sample of data.samples) state.metadataSamples.push({ pts: sample.pts, type: sample.type, bytes: sample.data.byteLength });
  });

  // Thumbnails: the run's WebVTT thumbnail track, one cue per image, read again while the run is live.
  const vttTime = (text) => text.split(':').reduce((total, part) => total * 60 + Number(part), 0);
  async function loadThumbnails() {
    try {
      // A run's own thumbnails (a channel slides, and a sliding run has none).
      if (!base.startsWith('/runs/')) return;
      const response = await fetch(base + '/thumbnails.vtt', { cache: 'no-cache' });
      if (!response.ok) return;
      const blocks = (await response.text()).split(/\\n\\n+/);
      const cues = [];
      for (const block of blocks) {
        const match = /([0-9:.]+) --> ([0-9:.]+)\\n(.+)/.exec(block);
        if (match) cues.push({ start: vttTime(match[1]), end: vttTime(match[2]), url: match[3].trim() });
      }
      state.thumbnails = cues;
    } catch { /* none yet */ }
  }
  loadThumbnails();
  setInterval(() => { if (state.live !== false || state.thumbnails.length === 0) loadThumbnails(); }, 4000);

  // The seek bar: the seekable range (the DVR window), markers at date ranges, a thumbnail while scrubbing.
  const timeline = $('timeline');
  function seekRange() {
    const seekable = video.seekable;
    if (seekable.length > 0) return { start: seekable.start(0), end: seekable.end(seekable.length - 1) };
    return Number.isFinite(video.duration) ? { start: 0, end: video.duration } : null;
  }
  const clock = (t) => { const s = Math.max(0, Math.floor(t)); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };
  function timeAt(clientX) {
    const range = seekRange();
    if (!range || range.end <= range.start) return null;
    const box = timeline.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (clientX - box.left) / box.width));
    return { time: range.start + fraction * (range.end - range.start), fraction };
  }
  function showPreview(clientX) {
    const at = timeAt(clientX);
    const preview = $('preview');
    if (!at) { preview.hidden = true; state.preview = null; return; }
    const cue = state.thumbnails.find((c) => at.time >= c.start && at.time < c.end) || state.thumbnails[state.thumbnails.length - 1];
    const image = $('preview-image');
    if (cue && image.getAttribute('src') !== cue.url) image.src = cue.url;
    image.hidden = !cue;
    $('preview-time').textContent = clock(at.time);
    preview.style.left = (at.fraction * 100) + '%';
    preview.hidden = false;
    state.preview = { time: at.time, url: cue ? cue.url : null };
  }
  timeline.addEventListener('pointermove', (event) => showPreview(event.clientX));
  timeline.addEventListener('pointerleave', () => { $('preview').hidden = true; state.preview = null; });
  timeline.addEventListener('click', (event) => { const at = timeAt(event.clientX); if (at) video.currentTime = at.time; });
  function renderTimeline() {
    readCues();
    const range = seekRange();
    const span = range ? range.end - range.start : 0;
    $('played').style.width = span > 0 ? (100 * Math.min(1, Math.max(0, (video.currentTime - range.start) / span))) + '%' : '0';
    const markers = $('markers');
    markers.textContent = '';
    const labels = [];
    for (const range2 of Object.values(state.dateRanges)) {
      if (!(span > 0) || !Number.isFinite(range2.startTime)) continue;
      const left = (range2.startTime - range.start) / span;
      if (left < 0 || left > 1) continue;
      const marker = document.createElement('div');
      marker.className = 'marker';
      marker.style.left = (left * 100) + '%';
      const title = range2.attr['X-TITLE'] || range2.id;
      marker.title = title;
      markers.append(marker);
      if (Number.isFinite(range2.duration)) {
        const bar = document.createElement('div');
        bar.className = 'range';
        bar.style.left = (left * 100) + '%';
        bar.style.width = (100 * Math.min(1 - left, range2.duration / span)) + '%';
        markers.append(bar);
      }
      if (video.currentTime >= range2.startTime && (!Number.isFinite(range2.duration) || video.currentTime < range2.startTime + range2.duration)) labels.push(title);
    }
    $('ranges').textContent = labels.length ? 'Now: ' + labels.join(', ') : '';
  }
  setInterval(renderTimeline, 250);
  hls.loadSource(source);
  hls.attachMedia(video);
  setInterval(render, 250);
  poll();
  setInterval(poll, 2000);
})();
</script>
</body>
</html>
`;
}
