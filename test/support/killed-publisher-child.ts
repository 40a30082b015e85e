// The publisher child (test/support/publisher-child.ts) run until a crash: started, left to
// finish some segments of every rendition, then SIGKILLed, as the crash and channel tests need it.
import { fileURLToPath } from 'node:url';

import type { PublishedVersion } from '../../src/publish/types.js';
import { CliProcess, cliEnv } from '../cli/cli-process.js';
import { CHILD_RENDITIONS, type PublisherChildOptions } from './publisher-child-options.js';

/** The publisher child's entry (node --import tsx). */
export const PUBLISHER_CHILD = fileURLToPath(new URL('./publisher-child.ts', import.meta.url));

/** One JSON line the child printed. */
export interface ChildLine {
  event: string;
  runId?: string;
  rendition?: string;
  index?: number;
  sha256?: string;
  version?: PublishedVersion;
}

/** Runs the child in `tempPath` until every rendition has `segments` segments, SIGKILLs it, and returns its JSON lines. */
export async function killPublisherChildAfter(options: PublisherChildOptions, tempPath: string, segments: number): Promise<ChildLine[]> {
  const child = new CliProcess([JSON.stringify(options)], cliEnv(tempPath), PUBLISHER_CHILD);
  const counts = new Map<string, number>();
  await child.waitForJson<ChildLine>((line) => {
    if (line.event !== 'segment') return false;
    counts.set(line.rendition!, (counts.get(line.rendition!) ?? 0) + 1);
    return CHILD_RENDITIONS.every(({ name }) => (counts.get(name) ?? 0) >= segments);
  }, 60_000);
  child.child.kill('SIGKILL');
  await child.exited;
  return child.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as ChildLine);
}
