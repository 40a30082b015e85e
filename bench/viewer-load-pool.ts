// ViewerLoad spread over worker threads: one event loop parsing the answers of
// thousands of viewers falls behind the burst that follows each part (every
// viewer's blocking reload is answered at once), and its lag would count as the
// server's. Each thread runs a ViewerLoad for its share of the viewers; arrival
// times are wall-clock milliseconds, comparable across threads and processes.
import { Worker } from 'node:worker_threads';

import type { ArrivalLog, LoadCounters, ViewerLoadOptions } from './ll-viewer-load.js';

/** What a worker sends: its counters (errors as entries), and its arrivals once stopped. */
export interface WorkerReport {
  counters: { playlists: number; parts: number; errors: [string, number][] };
  arrivals?: [string, number[]][];
}

const WORKER_URL = new URL('./viewer-load-worker.ts', import.meta.url).href;
// Worker threads do not inherit tsx's loader on Node 20: the worker registers it, then imports the TypeScript entry.
const BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL)}); })`;

export class ViewerLoadPool {
  readonly #workers: Worker[] = [];
  readonly #failures: string[] = [];

  constructor(readonly options: ViewerLoadOptions, readonly threads: number) {}

  start(): void {
    for (let thread = 0; thread < this.threads; thread++) {
      // Viewers dealt round robin; each thread ramps its share over the whole ramp.
      const viewers = Math.floor(this.options.viewers / this.threads) + (thread < this.options.viewers % this.threads ? 1 : 0);
      if (viewers === 0) continue;
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...this.options, viewers } });
      worker.on('error', (error) => this.#failures.push(error.message));
      this.#workers.push(worker);
    }
  }

  #ask(worker: Worker, message: 'counters' | 'stop'): Promise<WorkerReport> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`viewer load thread exited (${code}) ${this.#failures.join('; ')}`));
      worker.once('exit', onExit);
      worker.once('message', (report: WorkerReport) => {
        worker.off('exit', onExit);
        resolve(report);
      });
      worker.postMessage(message);
    });
  }

  /** The counters of every thread, summed. */
  async counters(): Promise<LoadCounters> {
    return sum(await Promise.all(this.#workers.map((worker) => this.#ask(worker, 'counters'))));
  }

  /** Stops every viewer; the counters at the end and every thread's arrivals. */
  async stop(): Promise<{ counters: LoadCounters; arrivals: ArrivalLog }> {
    const reports = await Promise.all(this.#workers.map((worker) => this.#ask(worker, 'stop')));
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
    const arrivals: ArrivalLog = new Map();
    for (const report of reports) {
      for (const [key, times] of report.arrivals ?? []) {
        const list = arrivals.get(key);
        if (list) for (const time of times) list.push(time);
        else arrivals.set(key, times);
      }
    }
    return { counters: sum(reports), arrivals };
  }
}

function sum(reports: readonly WorkerReport[]): LoadCounters {
  const total: LoadCounters = { playlists: 0, parts: 0, errors: new Map() };
  for (const { counters } of reports) {
    total.playlists += counters.playlists;
    total.parts += counters.parts;
    for (const [what, count] of counters.errors) total.errors.set(what, (total.errors.get(what) ?? 0) + count);
  }
  return total;
}
