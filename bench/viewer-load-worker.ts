// One thread of a ViewerLoadPool: runs a ViewerLoad for its share of the
// viewers and answers 'counters' (a snapshot) and 'stop' (with its arrivals).
import { parentPort, workerData } from 'node:worker_threads';

import { ViewerLoad, type LoadCounters, type ViewerLoadOptions } from './ll-viewer-load.js';
import type { WorkerReport } from './viewer-load-pool.js';

const load = new ViewerLoad(workerData as ViewerLoadOptions);
load.start();

const snapshot = (counters: LoadCounters): WorkerReport['counters'] => ({
  playlists: counters.playlists, parts: counters.parts, errors: [...counters.errors],
});

parentPort!.on('message', (message: 'counters' | 'stop') => {
  if (message === 'counters') {
    parentPort!.postMessage({ counters: snapshot(load.counters) } satisfies WorkerReport);
    return;
  }
  void load.stop().then(() => parentPort!.postMessage({ counters: snapshot(load.counters), arrivals: [...load.arrivals] } satisfies WorkerReport));
});
