// Prometheus text exposition (format 0.0.4), written by hand: a few counters and
// histograms do not justify a client library as a dependency.
import type { MultiResolutionHlsOutput } from '../publish/multi-resolution-hls-output.js';

type Labels = Record<string, string>;

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const PUBLISH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32];

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.#values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(key, entry);
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.#values.size === 0 && this.name.endsWith('_total')) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

class Histogram {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}

  observe(value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value) || value < 0) return;
    const key = labelText(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i] += 1;
    });
    series.sum += value;
    series.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.buckets.forEach((bound, i) => lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`, `${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines;
  }
}

/** The server's and (when attached) a publisher's metrics, rendered for GET /metrics. */
export class ServerMetrics {
  readonly #requests = new Counter('abrcast_http_requests_total', 'HTTP requests by route, method and status.');
  readonly #requestSeconds = new Histogram('abrcast_http_request_duration_seconds', 'Time to answer an HTTP request.', REQUEST_BUCKETS);
  readonly #publishSeconds = new Histogram(
    'abrcast_publish_latency_seconds',
    'Time from a segment leaving the encoder to the playlists listing it being published.',
    PUBLISH_BUCKETS,
  );
  readonly #publishes = new Counter('abrcast_playlist_publishes_total', 'Playlist versions published.');
  readonly #uploads = new Counter('abrcast_segments_uploaded_total', 'Segments stored, by rendition.');
  readonly #uploadRetries = new Counter('abrcast_upload_retries_total', 'Failed store writes that were retried.');

  countRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requests.inc({ route, method, status: String(status) });
    this.#requestSeconds.observe(seconds, { route });
  }

  observePublishLatency(seconds: number): void {
    this.#publishSeconds.observe(seconds);
  }

  countPublish(): void {
    this.#publishes.inc();
  }

  countUpload(rendition: string): void {
    this.#uploads.inc({ rendition });
  }

  countUploadRetry(): void {
    this.#uploadRetries.inc();
  }

  /**
   * Follows a publisher: uploads, retries, and the latency from a segment index
   * being produced (its first rendition) to the first publish listing it everywhere.
   * Returns a function that stops following.
   */
  attach(output: MultiResolutionHlsOutput): () => void {
    const producedAt = new Map<number, number>();
    let publishedCount = 0;
    const onSegment = ({ index }: { index: number }) => {
      if (index >= publishedCount && !producedAt.has(index)) producedAt.set(index, performance.now());
    };
    const onUploaded = ({ rendition }: { rendition: string }) => this.countUpload(rendition);
    const onRetry = () => this.countUploadRetry();
    const onPublish = (version: { media: Record<string, { segmentCount: number }> }) => {
      this.countPublish();
      const counts = Object.values(version.media).map((media) => media.segmentCount);
      const listedEverywhere = counts.length > 0 ? Math.min(...counts) : 0;
      const now = performance.now();
      for (let index = publishedCount; index < listedEverywhere; index += 1) {
        const at = producedAt.get(index);
        if (at !== undefined) this.observePublishLatency((now - at) / 1000);
        producedAt.delete(index);
      }
      publishedCount = Math.max(publishedCount, listedEverywhere);
    };
    output.on('segment', onSegment);
    output.on('uploaded', onUploaded);
    output.on('retry', onRetry);
    output.on('publish', onPublish);
    return () => {
      output.off('segment', onSegment);
      output.off('uploaded', onUploaded);
      output.off('retry', onRetry);
      output.off('publish', onPublish);
    };
  }

  render(): string {
    const metrics = [this.#requests, this.#requestSeconds, this.#publishSeconds, this.#publishes, this.#uploads, this.#uploadRetries];
    return `${metrics.flatMap((metric) => metric.render()).join('\n')}\n`;
  }
}
