// Prometheus metrics through prom-client: abrcast's own counters and histograms,
// plus its default process, heap, GC and event-loop-lag metrics, which matter
// for an encoder that runs for hours. Each ServerMetrics has its own registry,
// so several servers in one process (tests, a library user's app) never clash.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MultiResolutionHlsOutput } from '../publish/multi-resolution-hls-output.js';

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const PUBLISH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32];

/** The server's and (when attached) a publisher's metrics, rendered for GET /metrics. */
export class ServerMetrics {
  /** The registry GET /metrics renders; add your own metrics to it if you like. */
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'abrcast_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly #requestSeconds = new Histogram({
    name: 'abrcast_http_request_duration_seconds',
    help: 'Time to answer an HTTP request.',
    labelNames: ['route'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly #publishSeconds = new Histogram({
    name: 'abrcast_publish_latency_seconds',
    help: 'Time from a segment leaving the encoder to the playlists listing it being published.',
    buckets: PUBLISH_BUCKETS,
    registers: [this.registry],
  });
  readonly #publishes = new Counter({ name: 'abrcast_playlist_publishes_total', help: 'Playlist versions published.', registers: [this.registry] });
  readonly #uploads = new Counter({
    name: 'abrcast_segments_uploaded_total',
    help: 'Segments stored, by rendition.',
    labelNames: ['rendition'] as const,
    registers: [this.registry],
  });
  readonly #uploadRetries = new Counter({ name: 'abrcast_upload_retries_total', help: 'Failed store writes that were retried.', registers: [this.registry] });
  readonly #held = new Gauge({
    name: 'abrcast_held_requests',
    help: 'Requests held open now (blocking playlist reloads, preload-hinted parts, first masters).',
    registers: [this.registry],
  });
  readonly #heldRejected = new Counter({
    name: 'abrcast_held_requests_rejected_total',
    help: 'Requests that would have been held, answered 503 because the cap on held requests was reached.',
    registers: [this.registry],
  });
  /** What the abrcast_live_models gauge reads when scraped. */
  #liveModelCounts: () => { runs: number; renditions: number } = () => ({ runs: 0, renditions: 0 });
  readonly #liveModels = new Gauge({
    name: 'abrcast_live_models',
    help: 'Runs and renditions this process keeps a live model of.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
    collect: () => {
      const { runs, renditions } = this.#liveModelCounts();
      this.#liveModels.set({ kind: 'run' }, runs);
      this.#liveModels.set({ kind: 'rendition' }, renditions);
    },
  });

  constructor() {
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_heap_size_used_bytes,
    // nodejs_eventloop_lag_seconds (and its percentiles), nodejs_gc_duration_seconds, ...
    collectDefaultMetrics({ register: this.registry });
  }

  /** Content-Type of render()'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  countRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requests.inc({ route, method, status: String(status) });
    // prom-client throws on NaN; a clock oddity must not fail a request.
    if (Number.isFinite(seconds) && seconds >= 0) this.#requestSeconds.observe({ route }, seconds);
  }

  setHeldRequests(count: number): void {
    this.#held.set(count);
  }

  countHeldRejected(): void {
    this.#heldRejected.inc();
  }

  /** Reads the live model counts when /metrics is scraped. */
  followLiveModels(counts: () => { runs: number; renditions: number }): void {
    this.#liveModelCounts = counts;
  }

  observePublishLatency(seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.#publishSeconds.observe(seconds);
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

  /** The Prometheus text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
