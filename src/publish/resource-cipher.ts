// AES-128 encryption of a run's media resources (RFC 8216bis 4.4.4.4, METHOD=AES-128):
// each segment, part and init segment is encrypted whole, AES-128-CBC with PKCS#7
// padding, under the key of its key period (keyRotation segments per key) and
// an IV the playlist states (IV= on the EXT-X-KEY before it, RFC 8216bis 5.2).
//
// IVs. A segment's IV is its own: HMAC-SHA256 under a subkey of the content key
// over (rendition, segment index), so no two segments of a run share one (the
// Media Sequence Number rule would give every rendition the same IV under one
// key). A part has no IV of its own: players decrypt it with its parent
// segment's (hls.js: a Part takes its Fragment's decryptdata; Shaka: partial
// references get the segment's aesKey; RFC 8216bis has no EXT-X-KEY per part).
// So a segment and its parts share key and IV. What CBC leaks under a shared IV
// is where two plaintexts first differ, block by block; to leak nothing, every
// segment and part starts with a block of its own: a TS null packet (PID 0x1FFF,
// which demuxers skip) or an ISO BMFF `free` box (which parsers skip) carrying
// 96 or 64 pseudo-random bits. Their first cipher blocks then differ, and CBC
// chaining makes everything after differ too. The init segment has an IV of its
// own (RFC 8216bis 4.4.4.5 requires IV= on the key of an EXT-X-MAP).
//
// Everything is a pure function of the content key and the resource's place,
// so a retried upload or `abrcast resume` produces the very same bytes (and
// CID) as the first attempt.
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import type { Container } from '../encoder/types.js';
import { invalidParameterError, isInteger } from '../errors.js';
import type { ResourceKey } from '../hls/types.js';
import type { MediaResource } from './resource-store.js';


/** One key period's key, with the subkey its IVs and leading blocks come from. */
interface PeriodKey {
  key: Buffer;
  derive: Buffer;
}

export interface ResourceCipherOptions {
  container: Container;
  /** Segments per key; undefined: one key for the whole run. */
  keyRotation?: number;
  /** The content key of period `index`, created once (RunKeys.key). */
  keyFor: (index: number) => Promise<Buffer>;
}

const TS_PACKET = 188;
const LEAD_RANDOM = { ts: 12, fmp4: 8 } as const;

export class ResourceCipher {
  readonly #options: ResourceCipherOptions;
  readonly #periods = new Map<number, Promise<PeriodKey>>();

  constructor(options: ResourceCipherOptions) {
    const { keyRotation } = options;
    if (keyRotation !== undefined && (!isInteger(keyRotation) || keyRotation < 1)) {
      throw invalidParameterError('keyRotation', 'integer of at least 1 (segments per key)', keyRotation);
    }
    this.#options = options;
  }

  /** The key period of a resource: its segment's index / keyRotation; init segments use the first key. */
  keyIndex(resource: MediaResource): number {
    const rotation = this.#options.keyRotation;
    if (resource.kind === 'init' || rotation === undefined) return 0;
    return Math.floor((resource.kind === 'segment' ? resource.index : resource.segmentIndex) / rotation);
  }

  /** The key and IV a player decrypts the resource with. */
  async keyOf(resource: MediaResource): Promise<ResourceKey> {
    const index = this.keyIndex(resource);
    return { index, iv: ivOf(await this.#period(index), resource).toString('hex') };
  }

  /** The resource's bytes as stored: its leading block (segments and parts) and the media, encrypted. */
  async encrypt(resource: MediaResource, bytes: Uint8Array): Promise<Buffer> {
    const index = this.keyIndex(resource);
    const period = await this.#period(index);
    // The next period's key is made ahead, so a registry blip at the change of keys delays nothing.
    if (this.#options.keyRotation !== undefined && resource.kind === 'segment') this.#period(index + 1).catch(() => undefined);
    const cipher = createCipheriv('aes-128-cbc', period.key, ivOf(period, resource));
    const lead = resource.kind === 'init' ? [] : [cipher.update(leadingBlock(period, resource, this.#options.container))];
    return Buffer.concat([...lead, cipher.update(bytes), cipher.final()]);
  }

  #period(index: number): Promise<PeriodKey> {
    let period = this.#periods.get(index);
    if (!period) {
      period = this.#options.keyFor(index).then((key) => ({
        key,
        derive: Buffer.from(hkdfSync('sha256', key, '', 'abrcast resource iv and lead v1', 32)),
      }));
      // A failed key (registry down) is asked for again by the next attempt.
      period.catch(() => this.#periods.delete(index));
      this.#periods.set(index, period);
    }
    return period;
  }
}

function prf(period: PeriodKey, label: string, bytes: number): Buffer {
  return createHmac('sha256', period.derive).update(label).digest().subarray(0, bytes);
}

/** A segment and its parts share the segment's IV; an init segment has its own. */
function ivOf(period: PeriodKey, resource: MediaResource): Buffer {
  const label = resource.kind === 'init'
    ? `iv\ninit\n${resource.rendition}`
    : `iv\nsegment\n${resource.rendition}\n${resource.kind === 'segment' ? resource.index : resource.segmentIndex}`;
  return prf(period, label, 16);
}

/** The block a segment or part starts with, different for each: a TS null packet, or a 16-byte `free` box. */
function leadingBlock(period: PeriodKey, resource: Exclude<MediaResource, { kind: 'init' }>, container: Container): Buffer {
  const place = resource.kind === 'segment' ? `segment\n${resource.rendition}\n${resource.index}` : `part\n${resource.rendition}\n${resource.segmentIndex}\n${resource.partIndex}`;
  const random = prf(period, `lead\n${place}`, LEAD_RANDOM[container]);
  if (container === 'ts') {
    // sync byte, PID 0x1FFF (null packet), payload only; payload bytes are ignored by every demuxer.
    const packet = Buffer.alloc(TS_PACKET, 0xff);
    packet.set([0x47, 0x1f, 0xff, 0x10]);
    random.copy(packet, 4);
    return packet;
  }
  const box = Buffer.alloc(16);
  box.writeUInt32BE(16, 0);
  box.write('free', 4, 'latin1');
  random.copy(box, 8);
  return box;
}
