// A paced LL-HLS producer for `--case viewers`: records parts (bytes in the
// store, rows in the registry) on a fixed clock, as the publisher's part lane
// does, and at each segment's end stores the segment and publishes the
// playlists. No encoder: the bench measures the server, and an encoder would
// take the CPU the server and the viewers share on a small machine. Notes the
// moment each part's recordPart call starts (the clock's zero for delays), in
// milliseconds since the epoch so another process can compare. Run as a
// script it is a process of its own, so a busy load generator cannot make it
// late: `node --import tsx bench/ll-part-producer.ts <database-url> <kubo-url> <part-bytes>`
// prints {"runId"} and then {"part":"msn.part","at":ms} per part.
import { fileURLToPath } from 'node:url';
import { serializeMasterPlaylist } from '../src/hls/master-playlist.js';
import { serializeMediaPlaylist } from '../src/hls/media-playlist.js';
import type { VariantStreamRecords } from '../src/model/variant-stream-record.js';
import type { RunRegistry } from '../src/registry/run-registry.js';
import type { ContentStore } from '../src/store/content-store.js';
import { partKey } from './ll-viewer-load.js';

export interface ProducerOptions {
  registry: RunRegistry;
  store: ContentStore;
  renditions: readonly string[];
  fps: number;
  segmentSeconds: number;
  partsPerSegment: number;
  partBytes: number;
}

export class LlPartProducer {
  readonly options: ProducerOptions;
  runId = '';
  /** When recordPart of each part of the first rendition started (ms since the epoch), by "msn.part". */
  readonly recordedAt = new Map<string, number>();
  /** Called with each part of the first rendition as its recordPart starts. */
  onPart?: (key: string, at: number) => void;
  /** Parts that failed to record or publish (the bench reports them). */
  readonly failures: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #tick = 0;
  #busy: Promise<void> = Promise.resolve();
  readonly #segments: Record<string, { cid: string }[]> = {};

  constructor(options: ProducerOptions) {
    this.options = options;
  }

  get partSeconds(): number {
    return this.options.segmentSeconds / this.options.partsPerSegment;
  }

  async start(): Promise<string> {
    const { registry, fps, segmentSeconds } = this.options;
    const run = await registry.createRun({ width: 1280, height: 720, fps, segmentDuration: segmentSeconds, startedAt: new Date() });
    this.runId = run.id;
    await registry.setPartTarget(run.id, this.partSeconds);
    const started = performance.now();
    // Each tick is scheduled against the start, so a slow one does not shift the rest.
    const next = () => {
      const tick = ++this.#tick;
      const due = started + tick * this.partSeconds * 1000;
      this.#timer = setTimeout(() => {
        // In order, each after the one before (a slow store delays the next part, never skips it).
        this.#busy = this.#busy.then(() => this.#part(tick)).catch((error: unknown) => {
          this.failures.push((error as Error).message);
        });
        next();
      }, Math.max(0, due - performance.now()));
    };
    await this.#part(0);
    next();
    return run.id;
  }

  async #part(tick: number): Promise<void> {
    const { registry, store, renditions, partsPerSegment, partBytes } = this.options;
    const msn = Math.floor(tick / partsPerSegment);
    const index = tick % partsPerSegment;
    await Promise.all(
      renditions.map(async (rendition, position) => {
        const bytes = Buffer.alloc(partBytes, position + 1);
        bytes.write(`${this.runId} ${rendition} part ${msn}.${index} `);
        const cid = await store.add(bytes);
        if (position === 0) {
          const at = performance.timeOrigin + performance.now();
          this.recordedAt.set(partKey(msn, index), at);
          this.onPart?.(partKey(msn, index), at);
        }
        await registry.recordPart(this.runId, {
          rendition, segmentIndex: msn, partIndex: index, cid, duration: this.partSeconds, independent: index === 0, bytes: partBytes,
        });
      }),
    );
    if (index === partsPerSegment - 1) await this.#publish(msn);
  }

  async #publish(msn: number): Promise<void> {
    const { registry, store, renditions, fps, segmentSeconds } = this.options;
    const qualities: VariantStreamRecords = {};
    for (const [position, rendition] of renditions.entries()) {
      const cid = await store.add(Buffer.alloc(this.options.partBytes * this.options.partsPerSegment, position + 1));
      await registry.recordSegment(this.runId, { rendition, index: msn, cid, duration: segmentSeconds, bytes: 1 });
      const list = (this.#segments[rendition] ??= []);
      list.push({ cid });
      const text = serializeMediaPlaylist({
        targetDuration: Math.round(segmentSeconds), mediaSequence: 0, playlistType: 'EVENT', independentSegments: true, endList: false,
        segments: list.map((segment) => ({ duration: segmentSeconds, uri: `/ipfs/${segment.cid}` })),
      });
      qualities[rendition] = {
        cid: await store.add(Buffer.from(text)), width: 1280 >> position, height: 720 >> position, bitrate: 3000 >> position,
        bandwidth: 3_300_000 >> position, averageBandwidth: 3_000_000 >> position, codecs: 'avc1.64001f', frameRate: fps,
      };
    }
    const master = await store.add(Buffer.from(serializeMasterPlaylist({ independentSegments: true, variants: [] })));
    await registry.publishPlaylists(this.runId, master, qualities, { sequence: msn + 1 });
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#busy;
  }
}

/** The producer as a process of its own (see the header). */
async function main(argv: string[]): Promise<void> {
  const [databaseUrl, kuboUrl, partBytes, segmentSeconds, partsPerSegment] = argv;
  const { openRegistry } = await import('../src/registry/open-registry.js');
  const { KuboStore } = await import('../src/store/kubo-store.js');
  const registry = await openRegistry({ databaseUrl });
  const producer = new LlPartProducer({
    registry, store: new KuboStore({ url: kuboUrl }), renditions: ['720p', '360p'], fps: 30,
    segmentSeconds: Number(segmentSeconds), partsPerSegment: Number(partsPerSegment), partBytes: Number(partBytes),
  });
  producer.onPart = (part, at) => process.stdout.write(`${JSON.stringify({ part, at })}\n`);
  const runId = await producer.start();
  process.stdout.write(`${JSON.stringify({ runId })}\n`);
  const stop = async () => {
    await producer.stop();
    if (producer.failures.length > 0) process.stdout.write(`${JSON.stringify({ failures: producer.failures })}\n`);
    await registry.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
