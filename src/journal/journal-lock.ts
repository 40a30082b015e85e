// Who works on a run's journal: the producer while it runs, `abrcast resume`
// while it completes the run. A lock file in the journal's directory names the
// process (pid and host); a holder whose process is gone (a crash, SIGKILL)
// leaves a stale lock that the next taker replaces. Across machines the
// registry's run lease and heartbeats decide; this lock is the local guard
// that also tells resume, with certainty, that the producer died.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AbrcastError } from '../errors.js';
import { fsyncDir } from './durable-fs.js';

export type JournalRole = 'producer' | 'resume';

export interface JournalLockOwner {
  role: JournalRole;
  pid: number;
  host: string;
  since: string;
}

/** The journal is held by a live process: its role, pid and host are named. */
export class JournalLockedError extends AbrcastError {
  readonly owner: JournalLockOwner;
  constructor(dir: string, owner: JournalLockOwner) {
    super(`Journal ${dir} is held by the ${owner.role} of this run, process ${owner.pid} on ${owner.host} (since ${owner.since})`);
    this.name = 'JournalLockedError';
    this.owner = owner;
  }
}

/** What the lock file said when it was taken over. */
export interface StaleLock {
  owner: JournalLockOwner;
}

const LOCK_FILE = 'lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<JournalLockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as JournalLockOwner;
    return typeof owner?.pid === 'number' && typeof owner.host === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

export class JournalLock {
  readonly dir: string;
  readonly owner: JournalLockOwner;
  /** The lock this one replaced: a holder that died (the producer crashed). */
  readonly replaced?: StaleLock;

  private constructor(dir: string, owner: JournalLockOwner, replaced?: StaleLock) {
    this.dir = dir;
    this.owner = owner;
    this.replaced = replaced;
  }

  /**
   * Takes the lock of the journal in `dir`, or rejects with JournalLockedError while a live
   * process holds it (this one included). A lock left by a dead process, or one that cannot
   * be read, is replaced.
   */
  static async acquire(dir: string, role: JournalRole): Promise<JournalLock> {
    const path = join(dir, LOCK_FILE);
    const owner: JournalLockOwner = { role, pid: process.pid, host: hostname(), since: new Date().toISOString() };
    let replaced: StaleLock | undefined;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // Written whole under a name of its own, then linked into place (link fails if the lock exists): a
      // taker never sees a lock half written, which it would take for a torn one and replace.
      const own = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        const handle = await open(own, 'wx');
        try {
          await handle.writeFile(JSON.stringify(owner));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await link(own, path);
        await fsyncDir(dir);
        return new JournalLock(dir, owner, replaced);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        await unlink(own).catch(() => undefined);
      }
      const held = await readOwner(path);
      if (held && (held.host !== owner.host || processAlive(held.pid))) {
        // Another machine's process cannot be checked from here: it counts as alive.
        throw new JournalLockedError(dir, held);
      }
      // Stale (its process is gone) or torn: moved aside first, so of two takers only one removes it.
      const aside = `${path}.stale-${process.pid}`;
      try {
        await rename(path, aside);
        await unlink(aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (held) replaced = { owner: held };
    }
    throw new AbrcastError(`Cannot take the lock of journal ${dir}: it keeps changing hands`);
  }

  /** What holds the journal in `dir` now, if a live process does (undefined: free or stale). */
  static async holder(dir: string): Promise<JournalLockOwner | undefined> {
    const held = await readOwner(join(dir, LOCK_FILE));
    if (!held) return undefined;
    return held.host !== hostname() || processAlive(held.pid) ? held : undefined;
  }

  /** Whether `dir` holds a lock left by a process that is gone (a crashed holder). */
  static async isStale(dir: string): Promise<boolean> {
    const held = await readOwner(join(dir, LOCK_FILE));
    return held !== undefined && held.host === hostname() && !processAlive(held.pid);
  }

  /** Removes the lock if it is still this one's (a removed journal takes it along). */
  async release(): Promise<void> {
    const path = join(this.dir, LOCK_FILE);
    const held = await readOwner(path);
    if (held && held.pid === this.owner.pid && held.since === this.owner.since) await unlink(path).catch(() => undefined);
  }
}
