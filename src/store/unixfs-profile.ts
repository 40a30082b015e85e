// The UnixFS import settings behind every CID abrcast publishes. Kubo and the
// embedded store must turn the same bytes into the same CID, so both build their
// importer options from this one description (IPIP-499 "unixfs-v1-2025").
import { invalidParameterError, isInteger } from '../errors.js';

export interface UnixfsProfile {
  readonly name: string;
  readonly cidVersion: 1;
  /** Leaves are raw blocks, not dag-pb wrapped; a file of one chunk is that raw block. */
  readonly rawLeaves: true;
  readonly hashAlg: 'sha2-256';
  /** Fixed-size chunker: every chunk but the last is exactly this long. */
  readonly chunkSize: number;
  /** Most links in one dag-pb file node before the balanced tree grows a level. */
  readonly maxLinksPerNode: number;
  readonly layout: 'balanced';
}

export const UNIXFS_V1_2025: UnixfsProfile = Object.freeze({
  name: 'unixfs-v1-2025',
  cidVersion: 1,
  rawLeaves: true,
  hashAlg: 'sha2-256',
  chunkSize: 1_048_576,
  maxLinksPerNode: 1024,
  layout: 'balanced',
});

// Kubo's chunker refuses chunks above 2 MiB, the largest block peers exchange.
const MAX_CHUNK_SIZE = 2 * 1024 * 1024;

/**
 * Checks a profile given to a store. Only the chunk size and fan-out may vary
 * (tests use small ones to build deep trees from little data); the rest is fixed
 * because the stores only implement CIDv1, raw leaves, sha2-256 and balanced.
 */
export function validateProfile(profile: UnixfsProfile): UnixfsProfile {
  if (typeof profile !== 'object' || profile === null) {
    throw invalidParameterError('profile', 'object', profile);
  }
  if (profile.cidVersion !== 1) throw invalidParameterError('profile.cidVersion', 'one of 1', profile.cidVersion);
  if (profile.rawLeaves !== true) throw invalidParameterError('profile.rawLeaves', 'true', profile.rawLeaves);
  if (profile.hashAlg !== 'sha2-256') throw invalidParameterError('profile.hashAlg', 'one of "sha2-256"', profile.hashAlg);
  if (profile.layout !== 'balanced') throw invalidParameterError('profile.layout', 'one of "balanced"', profile.layout);
  if (!isInteger(profile.chunkSize) || profile.chunkSize < 1 || profile.chunkSize > MAX_CHUNK_SIZE) {
    throw invalidParameterError('profile.chunkSize', `integer between 1 and ${MAX_CHUNK_SIZE}`, profile.chunkSize);
  }
  if (!isInteger(profile.maxLinksPerNode) || profile.maxLinksPerNode < 2) {
    throw invalidParameterError('profile.maxLinksPerNode', 'integer of at least 2', profile.maxLinksPerNode);
  }
  return profile;
}
