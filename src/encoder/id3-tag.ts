// ID3v2.4 tags (id3.org, "ID3 tag version 2.4.0 - Main Structure" and "- Native Frames") for timed
// metadata: the payload of a timed ID3 PES in MPEG-TS and of an emsg box in fMP4. Only what timed
// metadata uses is written: text frames (T***), user text (TXXX) and private frames (PRIV), UTF-8,
// no unsynchronisation, no extended header. Our own: the npm ID3 writers target music files (v2.3,
// pictures, file I/O); this is 60 lines and checked against ffprobe and hls.js's parser.
import { invalidParameterError } from '../errors.js';

export type Id3Frame =
  /** A text information frame, e.g. { id: 'TIT2', text: 'Title' }. */
  | { id: string; text: string }
  /** User defined text (TXXX): a description and a value. */
  | { id: 'TXXX'; description: string; value: string }
  /** Private data (PRIV): an owner identifier (a URL or reverse-DNS name) and bytes. */
  | { id: 'PRIV'; owner: string; data: Uint8Array };

const UTF8 = 0x03;
/** Syncsafe integers keep 7 bits a byte: at most 2^28 - 1. */
const MAX_SYNCSAFE = 2 ** 28 - 1;

function syncsafe(name: string, value: number): Buffer {
  if (value > MAX_SYNCSAFE) throw invalidParameterError(name, `at most ${MAX_SYNCSAFE} bytes`, value);
  return Buffer.from([(value >> 21) & 0x7f, (value >> 14) & 0x7f, (value >> 7) & 0x7f, value & 0x7f]);
}

function frameBody(frame: Id3Frame, position: number): Buffer {
  const at = `frames[${position}]`;
  if ('owner' in frame) {
    // The owner is ISO-8859-1 and NUL-terminated: keep it to printable ASCII.
    if (typeof frame.owner !== 'string' || !/^[\x20-\x7e]+$/.test(frame.owner)) {
      throw invalidParameterError(`${at}.owner`, 'non-empty printable ASCII string', frame.owner);
    }
    if (!(frame.data instanceof Uint8Array)) throw invalidParameterError(`${at}.data`, 'Uint8Array', frame.data);
    return Buffer.concat([Buffer.from(frame.owner, 'latin1'), Buffer.from([0]), frame.data]);
  }
  if ('description' in frame) {
    for (const [key, value] of [['description', frame.description], ['value', frame.value]] as const) {
      if (typeof value !== 'string' || value.includes('\0')) throw invalidParameterError(`${at}.${key}`, 'string without NUL', value);
    }
    return Buffer.concat([Buffer.from([UTF8]), Buffer.from(frame.description, 'utf8'), Buffer.from([0]), Buffer.from(frame.value, 'utf8')]);
  }
  if (typeof frame.text !== 'string' || frame.text.includes('\0')) throw invalidParameterError(`${at}.text`, 'string without NUL', frame.text);
  return Buffer.concat([Buffer.from([UTF8]), Buffer.from(frame.text, 'utf8')]);
}

/** One ID3v2.4 tag holding `frames`, in order. */
export function id3Tag(frames: readonly Id3Frame[]): Buffer {
  if (!Array.isArray(frames) || frames.length === 0) throw invalidParameterError('frames', 'non-empty array of ID3 frames', frames);
  const encoded = frames.map((frame, position) => {
    const id = (frame as { id?: unknown }).id;
    const valid = typeof id === 'string' && /^[A-Z0-9]{4}$/.test(id) &&
      (id === 'TXXX' ? 'description' in frame : id === 'PRIV' ? 'owner' in frame : id.startsWith('T') && 'text' in frame);
    if (!valid) throw invalidParameterError(`frames[${position}].id`, 'TXXX, PRIV or a T*** text frame with its fields', id);
    const body = frameBody(frame, position);
    // Frame header: id, syncsafe size (v2.4), two flag bytes.
    return Buffer.concat([Buffer.from(id as string, 'latin1'), syncsafe(`frames[${position}]`, body.length), Buffer.from([0, 0]), body]);
  });
  const body = Buffer.concat(encoded);
  // Tag header: "ID3", version 2.4.0, no flags, syncsafe size of what follows.
  return Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([4, 0, 0]), syncsafe('tag', body.length), body]);
}
