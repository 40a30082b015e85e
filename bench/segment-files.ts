// Counts the MPEG-TS segments a run left on disk, in any sub-directory.
import { readdir } from 'node:fs/promises';

export async function countSegmentFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((name) => name.endsWith('.ts')).length;
}
