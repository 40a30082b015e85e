// Why the upload queue schedules its own retries instead of wrapping each upload
// in p-retry: head-of-line blocking under a partial store failure. 4 segments are
// refused for BAD_MS, 40 healthy ones are not; same concurrency, same backoff bounds
// (p-retry's randomize spans [1, 2) x minTimeout, so minTimeout is half our initial delay).
// p-retry is the copy libp2p installs (not a dependency of abrcast).
// Run: npx tsx bench/retry-slots.ts (docs/architecture.md, "Retries: why not p-retry").
import pRetry from 'p-retry';
import { UploadQueue } from '../src/publish/upload-queue.js';

const CONCURRENCY = 4, BAD = 4, GOOD = 40, BAD_MS = 5000, UPLOAD_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function makeStore(t0: number) {
  return {
    async add(bytes: Uint8Array): Promise<string> {
      await sleep(UPLOAD_MS);
      if (bytes[0] === 1 && Date.now() - t0 < BAD_MS) throw new Error('refused');
      return `cid${bytes[1]}`;
    },
  };
}
const jobs = [...Array.from({ length: BAD }, (_, i) => Uint8Array.of(1, i)), ...Array.from({ length: GOOD }, (_, i) => Uint8Array.of(0, BAD + i))];

async function ours(): Promise<number[]> {
  const t0 = Date.now();
  const done: number[] = [];
  const queue = new UploadQueue<number>({
    store: makeStore(t0), concurrency: CONCURRENCY, retry: { initialDelayMs: 250, maxDelayMs: 10_000 },
    onUploaded: (job) => { if (job.meta >= BAD) done.push(Date.now() - t0); },
  });
  jobs.forEach((bytes, i) => queue.enqueue(`k${i}`, bytes, i));
  await queue.close({ deadlineMs: 60_000 });
  return done;
}

async function pretry(): Promise<number[]> {
  const t0 = Date.now();
  const store = makeStore(t0);
  const done: number[] = [];
  const pending = jobs.map((bytes, i) => ({ bytes, i }));
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let job = pending.shift(); job; job = pending.shift()) {
      const { bytes, i } = job;
      await pRetry(() => store.add(bytes), { retries: Infinity, minTimeout: 125, maxTimeout: 10_000, factor: 2, randomize: true });
      if (i >= BAD) done.push(Date.now() - t0);
    }
  }));
  return done;
}

const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
for (const [name, run] of [['UploadQueue', ours], ['p-retry per job', pretry]] as const) {
  const d = await run();
  console.log(`${name}: healthy segments uploaded after median ${pct(d, 0.5)} ms, p95 ${pct(d, 0.95)} ms, last ${Math.max(...d)} ms`);
}
