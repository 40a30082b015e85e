// A run's journal: every finished segment is on disk (fsync'd) before it is queued
// for upload, with what is needed to finish the run without the process that
// started it: the run's settings, each segment's rendition, index, duration,
// codecs, and which ones reached the store (their CIDs). `abrcast resume` reads it
// after a crash; it is removed once the run is final and everything is uploaded.
//
// Layout of <journalDir>/<runId>/:
//   run.json      the run (written once, atomically)
//   log.jsonl     one line per event: {"segment":…} once its bytes are durable,
//                 {"uploaded":…} once the store holds it; a torn last line is ignored
//   <rendition>/<index>.ts  segment bytes, deleted once uploaded (unless kept
//                 elsewhere: a segment the encoder wrote to outputDir is used in place)
import { open, mkdir, readFile, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Rendition } from '../encoder/types.js';
import { AbrcastError, invalidParameterError, isInteger } from '../errors.js';
import { fsyncDir, fsyncPath } from './durable-fs.js';

/** ~/.abrcast/journal */
export function defaultJournalDir(): string {
  return join(homedir(), '.abrcast', 'journal');
}

/** Everything about a run that its playlists need, as the publisher started it. */
export interface JournalRun {
  runId: string;
  /** ISO time of the run's first frame (EXT-X-PROGRAM-DATE-TIME origin). */
  startedAt: string;
  width: number;
  height: number;
  fps: number;
  segmentDuration: number;
  renditions: Rendition[];
  /** URL templates the publisher used; absent when a function was given. */
  segmentUrl?: string;
  playlistUrl?: string;
  /** Media Sequence Number of segment 0 (a channel's run); absent: 0. Segment indexes here are the run's own, from 0. */
  msnBase?: number;
}

/** Default memoryLimitBytes: segments the disk refused, held in memory until uploaded. */
export const DEFAULT_JOURNAL_MEMORY_LIMIT_BYTES = 256 * 1024 ** 2;

export interface JournalSegment {
  rendition: string;
  index: number;
  duration: number;
  bytes: number;
  codecs: string;
  /** Where the bytes are. */
  path: string;
  /** True when the file belongs to the user (outputDir) and stays after upload. */
  kept: boolean;
  /** The disk refused it (ENOSPC, EIO…): its bytes are held in memory until uploaded, and a crash loses it. */
  inMemory?: boolean;
  /** Set once uploaded. */
  cid?: string;
}

type LogLine =
  | { segment: Omit<JournalSegment, 'cid'> }
  | { uploaded: { rendition: string; index: number; cid: string } };

/** The journal holds more bytes waiting for upload than its limit allows. */
export class JournalFullError extends AbrcastError {
  constructor(dir: string, pendingBytes: number, limitBytes: number, waitedMs: number, memory?: { bytes: number; limitBytes: number }) {
    super(
      memory
        ? `Journal ${dir} holds ${memory.bytes} bytes of segments in memory that its disk refused, over its memory limit of ` +
            `${memory.limitBytes}, and no upload freed room in ${waitedMs} ms: free disk space, or the store is not keeping up`
        : `Journal ${dir} holds ${pendingBytes} bytes of segments not yet uploaded, over its limit of ${limitBytes} ` +
            `(journalLimitBytes), and no upload freed room in ${waitedMs} ms: the store is not keeping up`,
    );
    this.name = 'JournalFullError';
  }
}

const key = (rendition: string, index: number) => `${rendition}/${index}`;

/**
 * Appends all of `bytes` at the end of `handle` (opened 'a'): write(2) may write less
 * than asked (a disk filling up, a file size limit); the rest is written after it, and a
 * write that makes no progress is an error, never a silently cut line.
 */
async function writeAll(handle: FileHandle, bytes: Buffer, path: string): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    if (!(bytesWritten > 0)) throw new AbrcastError(`Cannot write ${path}: wrote ${offset} of ${bytes.byteLength} bytes, then nothing`);
    offset += bytesWritten;
  }
}

/** Writes a whole file so that, after any crash, it is either absent or complete under `path`. */
async function writeDurable(path: string, bytes: Uint8Array | string): Promise<void> {
  const partial = `${path}.partial`;
  const handle = await open(partial, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, path);
  await fsyncDir(dirname(path)); // the new name itself
}

export class SegmentJournal {
  readonly dir: string;
  readonly run: JournalRun;
  readonly limitBytes: number;
  /** Most bytes of refused segments held in memory (see keepInMemory). */
  memoryLimitBytes = DEFAULT_JOURNAL_MEMORY_LIMIT_BYTES;
  readonly #segments = new Map<string, JournalSegment>();
  /** Bytes of segments the disk refused, by key, until uploaded. */
  readonly #memory = new Map<string, Uint8Array>();
  #memoryBytes = 0;
  /** A log write failed part way: the next line starts on a line of its own. */
  #tornLine = false;
  readonly #createdDirs = new Set<string>();
  #log: FileHandle | undefined;
  /** Appends run one after another, each fsync'd before the next. */
  #appending: Promise<unknown> = Promise.resolve();
  #pendingBytes = 0;
  #roomWaiters: (() => void)[] = [];

  private constructor(dir: string, run: JournalRun, limitBytes: number) {
    this.dir = dir;
    this.run = run;
    this.limitBytes = limitBytes;
  }

  /** Starts the journal of a new run under `<parentDir>/<runId>`. */
  static async create(parentDir: string, run: JournalRun, limitBytes = Number.POSITIVE_INFINITY): Promise<SegmentJournal> {
    if (!(limitBytes > 0)) throw invalidParameterError('journalLimitBytes', 'positive number of bytes', limitBytes);
    const dir = resolve(parentDir, run.runId);
    await mkdir(dir, { recursive: true });
    await fsyncDir(dirname(dir));
    await writeDurable(join(dir, 'run.json'), JSON.stringify(run));
    const journal = new SegmentJournal(dir, run, limitBytes);
    journal.#log = await open(join(dir, 'log.jsonl'), 'a');
    // The log's name is as durable as its lines: without this a crash can leave a directory without it.
    await fsyncDir(dir);
    return journal;
  }

  /** Reads an existing journal; undefined when `<parentDir>/<runId>` has none. */
  static async open(parentDir: string, runId: string): Promise<SegmentJournal | undefined> {
    const dir = resolve(parentDir, runId);
    let runText: string;
    try {
      runText = await readFile(join(dir, 'run.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const journal = new SegmentJournal(dir, JSON.parse(runText) as JournalRun, Number.POSITIVE_INFINITY);
    const logText = await readFile(join(dir, 'log.jsonl'), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const line of logText.split('\n')) {
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        continue; // the line a crash cut short (it was never acknowledged)
      }
      if ('segment' in entry) journal.#segments.set(key(entry.segment.rendition, entry.segment.index), { ...entry.segment });
      else if ('uploaded' in entry) {
        const segment = journal.#segments.get(key(entry.uploaded.rendition, entry.uploaded.index));
        if (segment) segment.cid = entry.uploaded.cid;
      }
    }
    journal.#log = await open(join(dir, 'log.jsonl'), 'a');
    // End a torn last line, so the next line is not glued to it.
    if (logText.length > 0 && !logText.endsWith('\n')) await journal.#appendRaw('\n');
    return journal;
  }

  /** Bytes of journaled segments not uploaded yet (those held in memory included). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Bytes of segments the disk refused, held in memory until uploaded. */
  get memoryBytes(): number {
    return this.#memoryBytes;
  }

  /** Every journaled segment, by rendition then index (of a journal being written: those not uploaded yet). */
  segments(): JournalSegment[] {
    return [...this.#segments.values()].sort((a, b) => (a.rendition < b.rendition ? -1 : a.rendition > b.rendition ? 1 : a.index - b.index));
  }

  /**
   * Makes a finished segment durable: its bytes (or the file the encoder already
   * wrote at `path`) fsync'd, then its log line fsync'd. Resolves only then.
   */
  append(segment: { rendition: string; index: number; duration: number; codecs: string; data: Uint8Array; path?: string }): Promise<JournalSegment> {
    const { rendition, index } = segment;
    if (!isInteger(index) || index < 0) throw invalidParameterError('index', 'integer of at least 0', index);
    if (this.#segments.has(key(rendition, index))) {
      return Promise.reject(new AbrcastError(`Segment ${key(rendition, index)} is already in journal ${this.dir}`));
    }
    const entry: JournalSegment = {
      rendition, index, duration: segment.duration, bytes: segment.data.byteLength, codecs: segment.codecs,
      path: segment.path ?? join(this.dir, rendition, `${index}.ts`), kept: segment.path !== undefined,
    };
    this.#segments.set(key(rendition, index), entry);
    this.#pendingBytes += entry.bytes;
    const written = (async () => {
      if (entry.kept) await fsyncPath(entry.path);
      else {
        await this.#ensureDir(dirname(entry.path));
        await writeDurable(entry.path, segment.data);
      }
      await this.#appendLine({ segment: { ...entry } });
      return entry;
    })();
    written.catch(() => {
      this.#segments.delete(key(rendition, index));
      this.#release(entry.bytes);
    });
    return written;
  }

  /**
   * A segment the disk refused (append() rejected: ENOSPC, EIO, a size limit): held in
   * memory for its upload instead, counted against memoryLimitBytes, so a disk that stays
   * full slows the producer (waitForRoom) instead of growing memory without bound. It is
   * not crash-safe; the caller reports the run incomplete.
   */
  keepInMemory(segment: { rendition: string; index: number; duration: number; codecs: string; data: Uint8Array }): JournalSegment {
    const { rendition, index } = segment;
    if (this.#segments.has(key(rendition, index))) throw new AbrcastError(`Segment ${key(rendition, index)} is already in journal ${this.dir}`);
    const entry: JournalSegment = {
      rendition, index, duration: segment.duration, bytes: segment.data.byteLength, codecs: segment.codecs, path: '', kept: false, inMemory: true,
    };
    this.#segments.set(key(rendition, index), entry);
    this.#memory.set(key(rendition, index), segment.data);
    this.#memoryBytes += entry.bytes;
    this.#pendingBytes += entry.bytes;
    return entry;
  }

  /** The bytes of a journaled segment, read back from disk (or memory, for one the disk refused). */
  read(segment: JournalSegment): Promise<Buffer> {
    if (segment.inMemory) {
      const data = this.#memory.get(key(segment.rendition, segment.index));
      if (!data) return Promise.reject(new AbrcastError(`Segment ${key(segment.rendition, segment.index)} is no longer held in memory`));
      return Promise.resolve(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    }
    return readFile(segment.path);
  }

  /** Records that the store holds `segment` as `cid` (fsync'd), then frees its bytes unless the user keeps them. */
  async markUploaded(segment: JournalSegment, cid: string): Promise<void> {
    if (segment.cid !== undefined) return;
    if (segment.inMemory) {
      // Never logged (the disk refused it): nothing to note, only memory to free.
      segment.cid = cid;
      this.#segments.delete(key(segment.rendition, segment.index));
      this.#memory.delete(key(segment.rendition, segment.index));
      this.#memoryBytes -= segment.bytes;
      this.#release(segment.bytes);
      return;
    }
    await this.#appendLine({ uploaded: { rendition: segment.rendition, index: segment.index, cid } });
    segment.cid = cid;
    // The log keeps it; memory holds only what still waits (a 24/7 run's journal stays O(pending) in memory).
    this.#segments.delete(key(segment.rendition, segment.index));
    this.#release(segment.bytes);
    if (!segment.kept) await unlink(segment.path).catch(() => undefined);
  }

  /**
   * Resolves once the segments awaiting upload fit under the limit again; rejects
   * with JournalFullError if that takes longer than `timeoutMs`.
   */
  waitForRoom(timeoutMs: number): Promise<void> {
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise((resolveRoom, reject) => {
      const timer = setTimeout(() => {
        this.#roomWaiters = this.#roomWaiters.filter((waiter) => waiter !== wake);
        const memory = this.#memoryBytes > this.memoryLimitBytes ? { bytes: this.#memoryBytes, limitBytes: this.memoryLimitBytes } : undefined;
        reject(new JournalFullError(this.dir, this.#pendingBytes, this.limitBytes, timeoutMs, memory));
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolveRoom();
      };
      this.#roomWaiters.push(wake);
    });
  }

  /** Closes the log; the journal stays on disk for `abrcast resume`. */
  async close(): Promise<void> {
    await this.#appending.catch(() => undefined);
    await this.#log?.close();
    this.#log = undefined;
  }

  /** Deletes the journal: call once the run is final and every segment is uploaded. Kept files stay. */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  #hasRoom(): boolean {
    return this.#pendingBytes <= this.limitBytes && this.#memoryBytes <= this.memoryLimitBytes;
  }

  #release(bytes: number): void {
    this.#pendingBytes -= bytes;
    if (!this.#hasRoom()) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #appendLine(line: LogLine): Promise<void> {
    return this.#appendRaw(`${JSON.stringify(line)}\n`);
  }

  #appendRaw(text: string): Promise<void> {
    const log = this.#log;
    if (!log) return Promise.reject(new AbrcastError(`Journal ${this.dir} is closed`));
    const done = this.#appending.catch(() => undefined).then(async () => {
      // After a write that failed part way, a fresh line: the torn one is skipped on reopen, not glued to this one.
      const line = this.#tornLine ? `\n${text}` : text;
      this.#tornLine = true;
      await writeAll(log, Buffer.from(line), join(this.dir, 'log.jsonl'));
      this.#tornLine = false;
      await log.sync();
    });
    this.#appending = done;
    return done;
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#createdDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    await fsyncDir(dirname(dir));
    this.#createdDirs.add(dir);
  }
}
