// fsync of a file or a directory's names: what makes the journal's writes durable.
import { open } from 'node:fs/promises';

export async function fsyncPath(path: string, flags = 'r'): Promise<void> {
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
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  await fsyncPath(dir);
}
