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
}

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
  /** Set once uploaded. */
  cid?: string;
}

type LogLine =
  | { segment: Omit<JournalSegment, 'cid'> }
  | { uploaded: { rendition: string; index: number; cid: string } };

/** The journal holds more bytes waiting for upload than its limit allows. */
export class JournalFullError extends AbrcastError {
  constructor(dir: string, pendingBytes: number, limitBytes: number, waitedMs: number) {
    super(
      `Journal ${dir} holds ${pendingBytes} bytes of segments not yet uploaded, over its limit of ${limitBytes} ` +
        `(journalLimitBytes), and no upload freed room in ${waitedMs} ms: the store is not keeping up`,
    );
    this.name = 'JournalFullError';
  }
}

const key = (rendition: string, index: number) => `${rendition}/${index}`;

async function fsyncPath(path: string, flags = 'r'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes the names in `dir` (a new file, a rename, a new subfolder) durable. Not on Windows: there a
 * directory opened for reading cannot be flushed (FlushFileBuffers fails, Node reports EPERM), and NTFS
 * journals names itself, committing them within seconds; so a power cut (not a crash of the process)
 * in those seconds can lose a just-journaled name there (docs/platforms.md).
 */
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  await fsyncPath(dir);
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
  readonly #segments = new Map<string, JournalSegment>();
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

  /** Bytes of journaled segments not uploaded yet. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Every journaled segment, by rendition then index. */
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

  /** The bytes of a journaled segment, read back from disk. */
  read(segment: JournalSegment): Promise<Buffer> {
    return readFile(segment.path);
  }

  /** Records that the store holds `segment` as `cid` (fsync'd), then frees its bytes unless the user keeps them. */
  async markUploaded(segment: JournalSegment, cid: string): Promise<void> {
    if (segment.cid !== undefined) return;
    await this.#appendLine({ uploaded: { rendition: segment.rendition, index: segment.index, cid } });
    segment.cid = cid;
    this.#release(segment.bytes);
    if (!segment.kept) await unlink(segment.path).catch(() => undefined);
  }

  /**
   * Resolves once the segments awaiting upload fit under the limit again; rejects
   * with JournalFullError if that takes longer than `timeoutMs`.
   */
  waitForRoom(timeoutMs: number): Promise<void> {
    if (this.#pendingBytes <= this.limitBytes) return Promise.resolve();
    return new Promise((resolveRoom, reject) => {
      const timer = setTimeout(() => {
        this.#roomWaiters = this.#roomWaiters.filter((waiter) => waiter !== wake);
        reject(new JournalFullError(this.dir, this.#pendingBytes, this.limitBytes, timeoutMs));
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

  #release(bytes: number): void {
    this.#pendingBytes -= bytes;
    if (this.#pendingBytes > this.limitBytes) return;
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
      await log.write(text);
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
