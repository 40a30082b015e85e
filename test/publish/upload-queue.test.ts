import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs } from '../../src/publish/backoff.js';
import { UploadIncompleteError } from '../../src/publish/upload-incomplete-error.js';
import { UploadQueue, type UploadJob, type UploadQueueOptions } from '../../src/publish/upload-queue.js';

const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** The CID the test store gives: content addressed, so a wrong byte gives a wrong CID. */
const cidOf = (bytes: Uint8Array) => `sha256${digest(bytes)}`;

interface StoreBehaviour {
  /** Rejects the first N calls for each distinct content. */
  failFirst?: number;
  /** Rejects every call until this time (ms since epoch). */
  downUntil?: number;
  /** Rejects every call, always. */
  brokenForever?: boolean;
  /** Never settles a call. */
  hang?: boolean;
  /** Time one call takes, by content. */
  latencyMs?: (bytes: Uint8Array) => number;
  /** Calls wait for this before doing anything. */
  gate?: Promise<void>;
}

/** An in-process content store that misbehaves on purpose and records what it saw. */
class MisbehavingStore {
  readonly stored = new Map<string, Buffer>();
  readonly callsByContent = new Map<string, number>();
  calls = 0;
  active = 0;
  maxActive = 0;

  constructor(private readonly behaviour: StoreBehaviour = {}) {}

  async add(bytes: Uint8Array): Promise<string> {
    this.calls += 1;
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.behaviour.hang) await new Promise(() => {});
      await this.behaviour.gate;
      await sleep(this.behaviour.latencyMs?.(bytes) ?? 1);
      const hash = digest(bytes);
      const seen = this.callsByContent.get(hash) ?? 0;
      this.callsByContent.set(hash, seen + 1);
      if (this.behaviour.brokenForever) throw new Error('store permanently down');
      if (this.behaviour.downUntil !== undefined && Date.now() < this.behaviour.downUntil) throw new Error('store down');
      if (seen < (this.behaviour.failFirst ?? 0)) throw new Error(`refused attempt ${seen + 1}`);
      this.stored.set(hash, Buffer.from(bytes));
      return cidOf(bytes);
    } finally {
      this.active -= 1;
    }
  }
}


const payloads = (count: number, size: number) =>
  Array.from({ length: count }, (_, index) => ({ key: `720p/${String(index).padStart(5, '0')}`, bytes: randomBytes(size + index) }));

type Meta = { index: number };
const fastRetry = { initialDelayMs: 2, maxDelayMs: 20 };

function queueWith(store: MisbehavingStore, options: Partial<UploadQueueOptions<Meta>> = {}) {
  const uploaded: { job: UploadJob<Meta>; cid: string }[] = [];
  const retries: { key: string; attempt: number; error: unknown }[] = [];
  const queue = new UploadQueue<Meta>({
    store,
    retry: fastRetry,
    onUploaded: (job, cid) => {
      uploaded.push({ job, cid });
    },
    onRetry: (job, attempt, error) => {
      retries.push({ key: job.key, attempt, error });
    },
    ...options,
  });
  return { queue, uploaded, retries };
}

describe('UploadQueue', () => {
  test('retries failed uploads until each succeeds; every job arrives once with its CID', async () => {
    const store = new MisbehavingStore({ failFirst: 2 });
    const { queue, uploaded, retries } = queueWith(store);
    const jobs = payloads(12, 1000);
    jobs.forEach(({ key, bytes }, index) => queue.enqueue(key, bytes, { index }));
    await queue.close({ deadlineMs: 10_000 });

    assert.deepEqual(uploaded.map((u) => u.job.key).sort(), jobs.map((j) => j.key));
    for (const { job, cid } of uploaded) {
      const input = jobs[job.meta.index];
      assert.equal(job.key, input.key);
      assert.equal(cid, cidOf(input.bytes));
      assert.equal(job.attempts, 3);
      assert.equal(job.byteLength, input.bytes.length);
    }
    assert.equal(retries.length, 24);
    for (const { key } of jobs) {
      assert.deepEqual(retries.filter((r) => r.key === key).map((r) => r.attempt), [1, 2]);
    }
    assert.match(String((retries[0].error as Error).message), /^refused attempt/);
    assert.deepEqual(queue.stats(), { pending: 0, inFlight: 0, uploaded: 12, retries: 24, pendingBytes: 0 });
  });

  test('the store is told which job each attempt stores (a lane that stores jobs differently needs it)', async () => {
    const inner = new MisbehavingStore({ failFirst: 1 });
    const seen: { key: string; attempt: number; index: number; digest: string }[] = [];
    const store = {
      add: (bytes: Uint8Array, job: UploadJob<Meta>) => {
        seen.push({ key: job.key, attempt: job.attempts, index: job.meta.index, digest: digest(bytes) });
        return inner.add(bytes);
      },
    };
    const { queue, uploaded } = queueWith(inner, { store });
    const jobs = payloads(5, 100);
    jobs.forEach(({ key, bytes }, index) => queue.enqueue(key, bytes, { index }));
    await queue.close({ deadlineMs: 10_000 });

    assert.equal(uploaded.length, 5);
    for (const [index, { key, bytes }] of jobs.entries()) {
      const calls = seen.filter((call) => call.key === key);
      assert.deepEqual(calls.map((call) => call.attempt), [1, 2]);
      for (const call of calls) {
        assert.equal(call.index, index);
        assert.equal(call.digest, digest(bytes));
      }
    }
  });

  test('there is no retry limit while the queue is open', async () => {
    const store = new MisbehavingStore({ failFirst: 15 });
    const { queue, uploaded, retries } = queueWith(store, { retry: { initialDelayMs: 1, maxDelayMs: 2 } });
    const [job] = payloads(1, 64);
    queue.enqueue(job.key, job.bytes, { index: 0 });
    await queue.close({ deadlineMs: 10_000 });
    assert.deepEqual(retries.map((r) => r.attempt), Array.from({ length: 15 }, (_, i) => i + 1));
    assert.equal(uploaded[0].job.attempts, 16);
    assert.equal(uploaded[0].cid, cidOf(job.bytes));
  });

  test('uploads in parallel, never more than the concurrency bound, finishing out of order', async () => {
    // Earlier jobs take longer, so they cannot all finish in enqueue order.
    const jobs = payloads(30, 500);
    const latencyByHash = new Map(jobs.map(({ bytes }, index) => [digest(bytes), 2 + (index % 3 === 0 ? 25 : 0)]));
    const store = new MisbehavingStore({ failFirst: 1, latencyMs: (bytes) => latencyByHash.get(digest(bytes))! });
    let maxInFlightSeen = 0;
    const { queue, uploaded } = queueWith(store, {
      concurrency: 3,
      onUploaded: (job, cid) => {
        maxInFlightSeen = Math.max(maxInFlightSeen, queue.stats().inFlight);
        uploaded.push({ job, cid });
      },
    });
    jobs.forEach(({ key, bytes }, index) => {
      queue.enqueue(key, bytes, { index });
      maxInFlightSeen = Math.max(maxInFlightSeen, queue.stats().inFlight);
    });
    await queue.close({ deadlineMs: 10_000 });

    assert.equal(store.maxActive, 3);
    assert.ok(maxInFlightSeen <= 3);
    const order = uploaded.map((u) => u.job.key);
    assert.deepEqual([...order].sort(), jobs.map((j) => j.key));
    assert.notDeepEqual(order, jobs.map((j) => j.key));
  });

  test('rides out a store that is down for a while', async () => {
    const downForMs = 150;
    const started = Date.now();
    const store = new MisbehavingStore({ downUntil: started + downForMs });
    const { queue, uploaded, retries } = queueWith(store, { retry: { initialDelayMs: 10, maxDelayMs: 40 } });
    const jobs = payloads(8, 2000);
    jobs.forEach(({ key, bytes }, index) => queue.enqueue(key, bytes, { index }));
    await queue.close({ deadlineMs: 10_000 });

    assert.ok(Date.now() - started >= downForMs);
    assert.ok(retries.length >= jobs.length, `${retries.length} retries`);
    assert.ok(retries.every((r) => (r.error as Error).message === 'store down'));
    assert.equal(uploaded.length, jobs.length);
    for (const { job, cid } of uploaded) assert.equal(cid, cidOf(jobs[job.meta.index].bytes));
    assert.equal(queue.stats().retries, retries.length);
  });

  test('reads each job\'s bytes from its source on every attempt, holding only the source', async () => {
    const store = new MisbehavingStore({ failFirst: 2 });
    const { queue, uploaded } = queueWith(store, { concurrency: 2 });
    const jobs = Array.from({ length: 6 }, (_, index) => ({ key: `1080p/${index}`, bytes: randomBytes(4000 + index) }));
    const reads = new Map<string, number>();
    jobs.forEach(({ key, bytes }, index) =>
      queue.enqueue(key, {
        byteLength: bytes.byteLength,
        read: async () => {
          reads.set(key, (reads.get(key) ?? 0) + 1);
          return Buffer.from(bytes);
        },
      }, { index }),
    );
    assert.equal(queue.stats().pendingBytes, jobs.reduce((sum, job) => sum + job.bytes.byteLength, 0));
    await queue.close({ deadlineMs: 10_000 });
    for (const { job, cid } of uploaded) assert.equal(cid, cidOf(jobs[job.meta.index].bytes));
    // Two refused attempts, then the upload: each attempt read the bytes again.
    for (const { key } of jobs) assert.equal(reads.get(key), 3, key);
    assert.equal(queue.stats().pendingBytes, 0);
  });

  test('close() with a store that never recovers rejects by the deadline, with every key', async () => {
    const store = new MisbehavingStore({ brokenForever: true });
    const { queue } = queueWith(store, { retry: { initialDelayMs: 5, maxDelayMs: 30 } });
    const jobs = payloads(5, 3000);
    jobs.forEach(({ key, bytes }, index) => queue.enqueue(key, bytes, { index }));

    const deadlineMs = 300;
    const started = Date.now();
    const error = await queue.close({ deadlineMs }).then(
      () => assert.fail('close() resolved although nothing was uploaded'),
      (reason: unknown) => reason,
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= deadlineMs - 5 && elapsed < deadlineMs + 700, `rejected after ${elapsed} ms`);
    assert.ok(error instanceof UploadIncompleteError);
    assert.deepEqual(error.failures.map((f) => f.key).sort(), jobs.map((j) => j.key));
    for (const failure of error.failures) {
      const input = jobs.find((j) => j.key === failure.key)!;
      assert.ok(failure.attempts >= 1);
      assert.equal(failure.byteLength, input.bytes.length);
      assert.deepEqual(failure.meta, { index: jobs.indexOf(input) });
      if (!failure.inFlight) assert.equal((failure.error as Error).message, 'store permanently down');
      assert.ok(error.message.includes(`${failure.key}: `));
    }
    assert.equal(store.stored.size, 0);
    assert.throws(() => queue.enqueue('late', new Uint8Array(1), { index: 99 }), /UploadQueue is closed/);
    // Nothing more happens after the report: no retries keep running.
    const callsAtReport = store.calls;
    await sleep(80);
    assert.equal(store.calls, callsAtReport);
  });

  test('close() reports uploads stuck in flight and jobs never attempted', async () => {
    const store = new MisbehavingStore({ hang: true });
    const { queue } = queueWith(store, { concurrency: 1 });
    const jobs = payloads(2, 100);
    jobs.forEach(({ key, bytes }, index) => queue.enqueue(key, bytes, { index }));
    const error = await queue.close({ deadlineMs: 50 }).catch((reason: unknown) => reason);
    assert.ok(error instanceof UploadIncompleteError);
    const [stuck, waiting] = error.failures;
    assert.equal(stuck.key, jobs[0].key);
    assert.equal(stuck.inFlight, true);
    assert.match((stuck.error as Error).message, /first attempt still running/);
    assert.equal(waiting.attempts, 0);
    assert.match((waiting.error as Error).message, /never attempted/);
  });

  test('close() on an idle queue resolves at once and is idempotent', async () => {
    const { queue } = queueWith(new MisbehavingStore());
    const first = queue.close({ deadlineMs: 10_000 });
    assert.equal(queue.close(), first);
    const started = Date.now();
    await first;
    assert.ok(Date.now() - started < 1000);
  });

  test('a failing onUploaded does not lose other uploads and makes close() reject', async () => {
    const store = new MisbehavingStore();
    const seen: string[] = [];
    const { queue } = queueWith(store, {
      onUploaded: async (job) => {
        seen.push(job.key);
        if (job.meta.index === 1) throw new Error('playlist publish failed');
      },
    });
    const jobs = payloads(3, 10);
    jobs.forEach(({ key, bytes }, index) => queue.enqueue(key, bytes, { index }));
    await assert.rejects(queue.close({ deadlineMs: 10_000 }), (error: unknown) => {
      assert.ok(error instanceof AggregateError);
      assert.match(error.message, /720p\/00001 \(onUploaded\): playlist publish failed/);
      return true;
    });
    assert.deepEqual(seen.sort(), jobs.map((j) => j.key));
  });

  test('rejects bad options and bad jobs with option errors', async () => {
    const base = { store: new MisbehavingStore(), onUploaded: () => {} };
    assert.throws(() => new UploadQueue({ ...base, concurrency: 0 }), {
      name: 'RangeError',
      message: 'Expected integer between 1 and 1024 for concurrency but received 0',
    });
    assert.throws(() => new UploadQueue({ ...base, store: {} as never }), /add\(bytes\) method for store/);
    assert.throws(() => new UploadQueue({ ...base, retry: { factor: 0.5 } }), /at least 1 for retry.factor but received 0.5/);
    assert.throws(() => new UploadQueue({ ...base, retry: { jitter: 'half' as 'full' } }), /one of full, none for retry.jitter/);

    const queue = new UploadQueue<undefined>({ ...base, store: new MisbehavingStore({ gate: new Promise(() => {}) }) });
    queue.enqueue('a', new Uint8Array(3), undefined);
    assert.throws(() => queue.enqueue('a', new Uint8Array(3), undefined), /Upload a is already queued/);
    assert.throws(() => queue.enqueue('', new Uint8Array(3), undefined), /non-empty string for key/);
    assert.throws(() => queue.enqueue('b', 'text' as unknown as Uint8Array, undefined), { name: 'TypeError', message: /Uint8Array or \{ byteLength, read\(\) \} for bytes/ });
    assert.throws(() => queue.close({ deadlineMs: -1 }), /at least 0 for deadlineMs/);
    await assert.rejects(queue.close({ deadlineMs: 0 }), UploadIncompleteError);
  });
});

describe('retryDelayMs', () => {
  const retry = { initialDelayMs: 250, maxDelayMs: 10_000, factor: 2, jitter: 'none' as const };

  test('grows exponentially up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 60].map((attempt) => retryDelayMs(attempt, retry));
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  test('full jitter draws uniformly below the ceiling', () => {
    const full = { ...retry, jitter: 'full' as const };
    assert.equal(retryDelayMs(3, full, () => 0.5), 500);
    assert.equal(retryDelayMs(3, full, () => 0), 0);
    const samples = Array.from({ length: 2000 }, () => retryDelayMs(4, full));
    assert.ok(samples.every((delay) => Number.isInteger(delay) && delay >= 0 && delay < 2000));
    assert.ok(new Set(samples).size > 100, 'delays are spread out');
  });
});
