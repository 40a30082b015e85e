// Simulated LL-HLS viewers for `--case viewers`, cheap enough that one process
// drives thousands: each viewer has one keep-alive connection (node:http, an
// Agent of one socket) and does what hls.js does at the live edge, in turn on
// that connection: a blocking playlist reload for the preload-hinted part
// (gzip accepted, as a browser does; a delta update, _HLS_skip=YES, once the
// playlist offers one, as hls.js asks), then a fetch of the newest part it
// lists, then the next reload. Each answer's newest part is noted with the
// time it arrived, for the delay from a part's recording to each viewer.
// Hostile clients hold a blocking reload one segment ahead, re-issued at once.
import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface PartKey {
  msn: number;
  part: number;
}

/** When each viewer first saw each part listed (ms since the epoch, to compare with another process's clock), by part key "msn.part". */
export type ArrivalLog = Map<string, number[]>;

export const partKey = (msn: number, part: number) => `${msn}.${part}`;

/** The newest part a playlist lists (its last EXT-X-PART) and the hinted one. */
export function edgeOf(text: string): { newest?: PartKey; hint?: PartKey } {
  const at = text.lastIndexOf('#EXT-X-PART:');
  const newest = at < 0 ? undefined : /URI="part\/(\d+)\.(\d+)\./.exec(text.slice(at, text.indexOf('\n', at)));
  const hintAt = text.lastIndexOf('#EXT-X-PRELOAD-HINT:');
  const hint = hintAt < 0 ? undefined : /URI="part\/(\d+)\.(\d+)\./.exec(text.slice(hintAt, text.indexOf('\n', hintAt)));
  return {
    ...(newest ? { newest: { msn: Number(newest[1]), part: Number(newest[2]) } } : {}),
    ...(hint ? { hint: { msn: Number(hint[1]), part: Number(hint[2]) } } : {}),
  };
}

interface Answer {
  status: number;
  body: Buffer;
  gzip: boolean;
}

function get(agent: Agent, url: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { 'accept-encoding': 'gzip' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), gzip: res.headers['content-encoding'] === 'gzip' }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const text = (answer: Answer) => (answer.gzip ? gunzipSync(answer.body) : answer.body).toString('latin1');

export interface LoadCounters {
  playlists: number;
  parts: number;
  /** Non-2xx answers and failed requests, by status or error message (cut short). */
  errors: Map<string, number>;
}

const countError = (counters: LoadCounters, what: string) => counters.errors.set(what, (counters.errors.get(what) ?? 0) + 1);

export interface ViewerLoadOptions {
  /** The media playlist URL (absolute, without query). */
  playlistUrl: string;
  viewers: number;
  /** Parts per segment: to walk from one part to the next when noting arrivals. */
  partsPerSegment: number;
  /** Milliseconds over which the viewers start (a burst of thousands of connects overflows the accept queue). */
  rampMs: number;
  /** A request unanswered this long fails (a blocking reload is held up to 3 target durations). */
  timeoutMs: number;
}

/** K viewers running until stop(); `arrivals` fills as answers come. */
export class ViewerLoad {
  readonly counters: LoadCounters = { playlists: 0, parts: 0, errors: new Map() };
  readonly arrivals: ArrivalLog = new Map();
  readonly #options: ViewerLoadOptions;
  readonly #agents: Agent[] = [];
  #stopped = false;
  readonly #running: Promise<void>[] = [];

  constructor(options: ViewerLoadOptions) {
    this.#options = options;
  }

  start(): void {
    const { viewers, rampMs } = this.#options;
    for (let viewer = 0; viewer < viewers; viewer++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      this.#agents.push(agent);
      const delay = viewers > 1 ? (rampMs * viewer) / viewers : 0;
      this.#running.push(new Promise((resolve) => setTimeout(resolve, delay)).then(() => this.#watch(agent)));
    }
  }

  #note(from: PartKey | undefined, to: PartKey, at: number): void {
    // Every part between the previous answer's newest and this one's is first listed now, for this viewer.
    let msn = from ? from.msn : to.msn;
    let part = from ? from.part + 1 : to.part;
    for (let guard = 0; guard < 1000 && (msn < to.msn || (msn === to.msn && part <= to.part)); guard++) {
      if (part >= this.#options.partsPerSegment) {
        msn += 1;
        part = 0;
        continue;
      }
      const key = partKey(msn, part);
      let list = this.arrivals.get(key);
      if (!list) this.arrivals.set(key, (list = []));
      list.push(at);
      part += 1;
    }
  }

  async #watch(agent: Agent): Promise<void> {
    const { playlistUrl, timeoutMs } = this.#options;
    const partBase = new URL('part/', playlistUrl).href;
    let newest: PartKey | undefined;
    let query = '';
    while (!this.#stopped) {
      let answer: Answer;
      try {
        answer = await get(agent, playlistUrl + query, timeoutMs);
      } catch (error) {
        if (this.#stopped) return;
        countError(this.counters, (error as Error).message.slice(0, 60));
        query = '';
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      const at = performance.timeOrigin + performance.now();
      this.counters.playlists += 1;
      if (answer.status !== 200) {
        countError(this.counters, `playlist ${answer.status}`);
        query = '';
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      const body = text(answer);
      const edge = edgeOf(body);
      if (edge.newest) {
        if (!newest || edge.newest.msn > newest.msn || (edge.newest.msn === newest.msn && edge.newest.part > newest.part)) {
          this.#note(newest, edge.newest, at);
          newest = edge.newest;
          try {
            const part = await get(agent, `${partBase}${newest.msn}.${newest.part}.ts`, timeoutMs);
            this.counters.parts += 1;
            if (part.status !== 200) countError(this.counters, `part ${part.status}`);
          } catch (error) {
            if (this.#stopped) return;
            countError(this.counters, (error as Error).message.slice(0, 60));
          }
        }
      }
      // hls.js asks for a delta update once the playlist offers one (CAN-SKIP-UNTIL) and its copy is recent.
      const skip = body.includes('CAN-SKIP-UNTIL=') ? '&_HLS_skip=YES' : '';
      query = edge.hint ? `?_HLS_msn=${edge.hint.msn}&_HLS_part=${edge.hint.part}${skip}` : '';
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const agent of this.#agents) agent.destroy();
    await Promise.allSettled(this.#running);
  }
}

/**
 * `count` clients each holding a blocking reload for part 0 of the segment
 * after the hinted one (valid, so held until that segment starts), re-issued
 * as soon as it is answered: the server holds `count` requests at all times
 * and wakes them together at each segment boundary.
 */
export class HostileLoad {
  readonly counters: LoadCounters = { playlists: 0, parts: 0, errors: new Map() };
  readonly #agents: Agent[] = [];
  readonly #running: Promise<void>[] = [];
  #stopped = false;

  constructor(readonly playlistUrl: string, readonly count: number, readonly rampMs: number, readonly timeoutMs: number) {}

  start(): void {
    for (let client = 0; client < this.count; client++) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      this.#agents.push(agent);
      const delay = (this.rampMs * client) / Math.max(1, this.count);
      this.#running.push(new Promise((resolve) => setTimeout(resolve, delay)).then(() => this.#hold(agent)));
    }
  }

  async #hold(agent: Agent): Promise<void> {
    let query = '';
    while (!this.#stopped) {
      try {
        const answer = await get(agent, this.playlistUrl + query, this.timeoutMs);
        this.counters.playlists += 1;
        if (answer.status !== 200) {
          countError(this.counters, `playlist ${answer.status}`);
          query = '';
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        const { hint } = edgeOf(text(answer));
        query = hint ? `?_HLS_msn=${hint.msn + 1}&_HLS_part=0` : '';
      } catch (error) {
        if (this.#stopped) return;
        countError(this.counters, (error as Error).message.slice(0, 60));
        query = '';
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const agent of this.#agents) agent.destroy();
    await Promise.allSettled(this.#running);
  }
}
