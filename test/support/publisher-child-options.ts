// What test/support/publisher-child.ts takes and makes, for the tests that run it.
export interface PublisherChildOptions {
  dataDir: string;
  /** PostgreSQL URL; default PGlite under dataDir/db. */
  databaseUrl?: string;
  /** Kubo RPC URL; default the embedded store under dataDir/ipfs. */
  kuboUrl?: string;
  seconds: number;
  fps?: number;
  /** Each segment upload waits this long first: a store slower than the stream, so the journal holds a backlog. */
  uploadDelayMs?: number;
  closeDeadlineMs?: number;
  /** Publish on this channel (with windowSeconds, or the channel default). */
  channel?: string;
  windowSeconds?: number;
  /** LL-HLS parts of this many seconds (latency 'low'). */
  partDuration?: number;
  /** Segment container (default MPEG-TS); fMP4 runs with parts have a DASH MPD. */
  container?: 'ts' | 'fmp4';
  /** A private run (encryption 'aes-128') with this server secret. */
  keySecret?: string;
}

export const CHILD_RENDITIONS = [
  { name: '90p', width: 160, height: 90, bitrate: 150 },
  { name: '72p', width: 128, height: 72, bitrate: 80 },
];
