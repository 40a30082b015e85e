// Files that hold upload bytes outside the heap: written when the queue's memory
// budget is spent, or at close for whatever is still unsent, and removed once uploaded.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class Spool {
  #ready: Promise<void> | undefined;

  constructor(readonly dir: string) {}

  /** Writes `bytes` to a new file named after `key`; resolves to its path once complete. */
  async write(key: string, bytes: Uint8Array): Promise<string> {
    await this.#ensureDir();
    // Unique per write, so queues sharing a directory or re-used keys cannot collide.
    const name = `${key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120)}-${randomBytes(6).toString('hex')}.seg`;
    const path = join(this.dir, name);
    const partial = `${path}.partial`;
    // A file under its final name is always complete, even after a crash mid-write.
    await writeFile(partial, bytes, { flag: 'wx' });
    await rename(partial, path);
    return path;
  }

  read(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  #ensureDir(): Promise<void> {
    this.#ready ??= mkdir(this.dir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined; // let a later write try again
        throw error;
      },
    );
    return this.#ready;
  }
}
