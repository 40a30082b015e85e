// How a producer starts on a channel. The channel's newest run is where it
// continues: if that run is still marked live, its producer must be gone (a
// live one is refused), and if it crashed on this data dir its journal is
// recorded first (resume's first half), so the new run is numbered after every
// segment the crashed one finished. The registry then creates the run after it
// (one discontinuity later, Media Sequence Numbers carried on) and hands back
// the channel's tail: the newest window of segments, which the new run's
// playlists list before its own so a player on the channel URL plays on. The
// run it continued is finalized once the channel moved on (its ENDLIST must
// never be what the channel serves).
import { hostname } from 'node:os';
import { AbrcastError } from '../errors.js';
import { targetDurationFor } from '../hls/media-playlist.js';
import { cidUrlResolver, DEFAULT_KEY_URL_TEMPLATE, keyUrlResolver, type CidUrl, type KeyUrl } from '../hls/segment-url.js';
import type { ResourceKey, SegmentKey } from '../hls/types.js';
import type { NewRun } from '../model/run-inputs.js';
import type { VariantStreamRecords } from '../model/variant-stream-record.js';
import type { ContentStore } from '../store/content-store.js';
import { JournalLockedError } from '../journal/journal-lock.js';
import { finalizeRun } from './finalize-run.js';
import type { ChannelContinuation, ContinuedSegment } from './playlist-publisher.js';
import { recordJournal, resumeRun, RunAliveError, withRunLease, type ResumableRegistry } from './resume-run.js';
import { stalledAfterMs } from '../model/heartbeat.js';
import type { SecretInput } from '../crypto/server-secret.js';

/** What starting on a channel needs of a registry; RunRegistry fits (structural, so this layer does not depend on it). */
export interface ChannelRegistry extends ResumableRegistry {
  createRun(run: NewRun): Promise<{ id: string; msnBase: number; discontinuitySequence: number }>;
  getChannel(name: string): Promise<{ newestRunId: string | null } | undefined>;
  getRun(id: string): Promise<
    | {
        id: string; createdAt: Date; status: string; fps: number; segmentDuration: number; qualityPlaylists: VariantStreamRecords;
        playlistSequence: number; partTarget?: number | null; msnBase?: number; encryption?: string | null;
      }
    | undefined
  >;
  getInitSegments(runId: string): Promise<Record<string, string>>;
  channelTail(name: string, beforeMsn: number, count: number): Promise<Array<{
    rendition: string; msn: number; cid: string; duration: number; startedAt: Date; discontinuity: boolean;
    discontinuitySequence: number; segmentUrl: string | null; initCid?: string;
    runId: string; key?: ResourceKey; initKey?: ResourceKey; keyUrl: string | null;
  }>>;
  markFailed(runId: string, error: string, missing?: { rendition: string; index: number }[]): Promise<void>;
}

export interface ChannelStartOptions {
  registry: ChannelRegistry;
  store: Pick<ContentStore, 'add' | 'cat'> & Partial<Pick<ContentStore, 'releaseVersion'>>;
  channel: string;
  /** The new run, as createRun takes it (without the channel fields; its startedAt is stamped when it is created). */
  run: Omit<NewRun, 'startedAt'>;
  /** Where this machine keeps run journals: a crashed previous run's is recorded first. */
  journalDir: string;
  renditions: readonly { name: string }[];
  /** LL-HLS part target of the new run (undefined: no parts). */
  partTarget?: number;
  container: 'ts' | 'fmp4';
  /** Segments a live playlist lists (the tail is at most this long). */
  windowSegments: number;
  /** The new run's segment URLs: for tail segments whose run stored no template. */
  segmentUrl: CidUrl;
  /** A private channel's server secret (default: ABRCAST_KEY_SECRET): a crashed run's journal is encrypted with its keys. */
  keySecret?: SecretInput;
}

export interface ChannelStart {
  /** startedAt: when the run was created, after the hand-over (a crashed run's journal recorded first can take seconds). */
  run: { id: string; msnBase: number; discontinuitySequence: number; startedAt: Date };
  /** Undefined for the channel's first run. */
  continues?: ChannelContinuation;
  /** Ends the run this one continued, if it was left live; call once the channel serves the new run. */
  finalizePrevious(): Promise<void>;
}

/**
 * A rendition's tail from its first segment to `msnBase` - 1 without a hole: each MSN missing
 * (never finished by its run) as an EXT-X-GAP entry of the run's segment duration, dated
 * after the one before, in its discontinuity sequence and under its keys.
 */
function withGaps(segments: readonly ContinuedSegment[], msnBase: number, segmentDuration: number | undefined): ContinuedSegment[] {
  if (segments.length === 0 || segmentDuration === undefined) return [...segments];
  const filled: ContinuedSegment[] = [];
  let index = 0;
  for (let msn = segments[0].msn; msn < msnBase; msn++) {
    if (segments[index]?.msn === msn) {
      filled.push(segments[index++]);
      continue;
    }
    const before = filled.at(-1)!;
    filled.push({
      msn, duration: segmentDuration, uri: `gap/${msn}`, startedAt: new Date(before.startedAt.getTime() + before.duration * 1000),
      discontinuity: false, discontinuitySequence: before.discontinuitySequence,
      // The keys in force stay in force (a gap is never loaded, but a changed EXT-X-KEY would be written twice).
      ...(before.mapUri !== undefined ? { mapUri: before.mapUri, ...(before.mapKey ? { mapKey: before.mapKey } : {}) } : {}),
      ...(before.key ? { key: before.key } : {}),
      gap: true,
    });
  }
  return filled;
}

/** The previous run cannot be continued by this producer's settings. */
function checkCompatible(
  channel: string,
  previous: NonNullable<Awaited<ReturnType<ChannelRegistry['getRun']>>>,
  inits: Record<string, string>,
  options: ChannelStartOptions,
): void {
  const theirs = Object.keys(previous.qualityPlaylists).sort();
  const ours = options.renditions.map((r) => r.name).sort();
  const describe = (names: string[], target: number, part: number | null | undefined, container: string) =>
    `renditions [${names.join(', ')}], target duration ${target} s, ${part ? `parts of ${part} s` : 'no parts'}, ${container}`;
  const theirTarget = targetDurationFor(previous.segmentDuration);
  const ourTarget = targetDurationFor(options.run.segmentDuration);
  const theirContainer = Object.keys(inits).length > 0 ? 'fmp4' : 'ts';
  const differs =
    (theirs.length > 0 && theirs.join() !== ours.join()) ||
    theirTarget !== ourTarget ||
    (previous.partTarget ?? null) !== (options.partTarget ?? null) ||
    (theirs.length > 0 && theirContainer !== options.container);
  if (differs) {
    throw new AbrcastError(
      `Channel ${JSON.stringify(channel)} plays ${describe(theirs, theirTarget, previous.partTarget, theirContainer)}; this producer has ` +
        `${describe(ours, ourTarget, options.partTarget, options.container)}. A player on the channel keeps its renditions and ` +
        'EXT-X-TARGETDURATION across a restart, so they must match (or use another channel)',
    );
  }
  // Who may watch a channel's URL must not change with a producer restart: a public run after a private one would open
  // the channel's playlists to everyone while the tail's keys still need a token (and the reverse would lock out its viewers).
  const theirsPrivate = (previous.encryption ?? null) !== null;
  const oursPrivate = (options.run.encryption ?? null) !== null;
  if (theirsPrivate !== oursPrivate) {
    const what = (isPrivate: boolean) => (isPrivate ? 'private (encryption aes-128)' : 'public (no encryption)');
    throw new AbrcastError(
      `Channel ${JSON.stringify(channel)} is ${what(theirsPrivate)} (its run ${previous.id}); this producer's run is ${what(oursPrivate)}. ` +
        `A channel's runs are all private or all public, so its viewers' access does not change with a restart: ` +
        `${theirsPrivate ? 'add --encrypt (encryption: \'aes-128\')' : 'drop --encrypt (encryption)'}, or use another channel`,
    );
  }
}

export async function startOnChannel(options: ChannelStartOptions): Promise<ChannelStart> {
  const { registry, store, channel } = options;
  const secret = options.keySecret !== undefined ? { keySecret: options.keySecret } : {};
  const newestRunId = (await registry.getChannel(channel))?.newestRunId ?? null;
  let leftLive: { runId: string; journaled: boolean } | undefined;
  if (newestRunId !== null) {
    const previous = await registry.getRun(newestRunId);
    if (previous) {
      checkCompatible(channel, previous, await registry.getInitSegments(newestRunId), options);
      if (previous.status === 'live') {
        // Refuses a live producer (RunAliveError, JournalLockedError); records a crashed one's journal here.
        const recorded = await recordJournal({ registry, store, runId: newestRunId, journalDir: options.journalDir, ...secret }).catch((error: unknown) => {
          if (error instanceof JournalLockedError || error instanceof RunAliveError) {
            throw new AbrcastError(`Channel ${JSON.stringify(channel)} is live with run ${newestRunId}: ${error.message}`, { cause: error });
          }
          throw error;
        });
        if (recorded === undefined) {
          // No journal on this machine: only a heartbeat can tell, and it must be stale.
          const age = await registry.heartbeatAgeMs?.(newestRunId);
          const bound = stalledAfterMs(previous.segmentDuration);
          if (typeof age === 'number' && age < bound) {
            throw new AbrcastError(
              `Channel ${JSON.stringify(channel)} is live with run ${newestRunId}: its producer's last heartbeat was ${(age / 1000).toFixed(1)} s ago ` +
                `(a run is stalled after ${bound / 1000} s without one); stop that producer first, or wait`,
            );
          }
        }
        leftLive = { runId: newestRunId, journaled: recorded !== undefined };
      }
    }
  }
  // Frame 0 comes after this: dated earlier, every PROGRAM-DATE-TIME (and the DASH timeline) would run ahead of the media.
  const startedAt = new Date();
  const run = { ...(await registry.createRun({ ...options.run, startedAt, channel, follows: newestRunId })), startedAt };
  let continues: ChannelContinuation | undefined;
  if (newestRunId !== null) {
    const tail: Record<string, ContinuedSegment[]> = Object.fromEntries(options.renditions.map(({ name }) => [name, []]));
    const urls = new Map<string | null, CidUrl>();
    const urlFor = (template: string | null) => {
      let url = urls.get(template);
      if (!url) urls.set(template, (url = template === null ? options.segmentUrl : cidUrlResolver({ template, optionName: 'segmentUrl' })));
      return url;
    };
    // A private channel: each tail segment behind the key URI and IV its own run wrote (/runs/{run}/keys/{n} by default,
    // the run's key route, which a channel token opens), so every playlist names one key by one URI.
    const keyUrls = new Map<string, KeyUrl>();
    const keyOf = (runId: string, template: string | null, key: ResourceKey): SegmentKey => {
      const name = template ?? DEFAULT_KEY_URL_TEMPLATE;
      let keyUrl = keyUrls.get(name);
      if (!keyUrl) keyUrls.set(name, (keyUrl = keyUrlResolver(name)));
      return { method: 'AES-128', uri: keyUrl(runId, key.index), iv: key.iv };
    };
    for (const segment of await registry.channelTail(channel, run.msnBase, options.windowSegments)) {
      const url = urlFor(segment.segmentUrl);
      tail[segment.rendition]?.push({
        msn: segment.msn, duration: segment.duration, uri: url(segment.cid), startedAt: segment.startedAt,
        discontinuity: segment.discontinuity, discontinuitySequence: segment.discontinuitySequence,
        ...(segment.initCid !== undefined ? {
          mapUri: url(segment.initCid), ...(segment.initKey ? { mapKey: keyOf(segment.runId, segment.keyUrl, segment.initKey) } : {}),
        } : {}),
        ...(segment.key ? { key: keyOf(segment.runId, segment.keyUrl, segment.key) } : {}),
      });
    }
    const previous = await registry.getRun(newestRunId);
    // Each MSN the tail lacks up to the new run (a segment the previous run never finished in this rendition,
    // perhaps seen as parts) is listed as a gap: numbering goes on, and nothing a player saw changes sequence.
    for (const [name, segments] of Object.entries(tail)) tail[name] = withGaps(segments, run.msnBase, previous?.segmentDuration);
    const codecs = Object.fromEntries(Object.entries(previous?.qualityPlaylists ?? {}).map(([name, quality]) => [name, quality.codecs]));
    continues = { discontinuitySequence: run.discontinuitySequence, tail, codecs };
  }
  return {
    run,
    ...(continues ? { continues } : {}),
    async finalizePrevious() {
      if (!leftLive) return;
      const { runId, journaled } = leftLive;
      if (journaled) {
        // Its journal was recorded: resume completes it (final playlists, ended) and removes the journal.
        await resumeRun({ registry, store, runId, journalDir: options.journalDir, producerGone: true, ...secret });
        return;
      }
      const error = `Its producer stopped without ending it; channel ${JSON.stringify(channel)} continued with run ${run.id}`;
      await withRunLease(registry, runId, `channel ${process.pid}@${hostname()}`, async () => {
        try {
          await finalizeRun({ registry, store, runId, failure: { error, missing: [] } });
        } catch (cause) {
          if (!(cause instanceof AbrcastError) || !/never published playlists|has no segment/.test(cause.message)) throw cause;
          await registry.markFailed(runId, error, []);
        }
      });
    },
  };
}
