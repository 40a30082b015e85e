// Reading an encrypted run as a player would, with node:crypto's own AES-128-CBC
// (not abrcast's code): a resource, its key and the IV its EXT-X-KEY states, and
// what clear media looks like, to show that ciphertext does not.
import { createDecipheriv } from 'node:crypto';

/** AES-128-CBC with PKCS#7 padding, the whole resource (RFC 8216bis 4.4.4.4). */
export function decryptResource(bytes: Uint8Array, key: Uint8Array, ivHex: string): Buffer {
  const decipher = createDecipheriv('aes-128-cbc', key, Buffer.from(ivHex, 'hex'));
  return Buffer.concat([decipher.update(bytes), decipher.final()]);
}

const SYNC = 0x47;
const TS_PACKET = 188;

/** Signs of clear media: MPEG-TS sync bytes every 188 bytes, ISO BMFF box names, H.264 NAL start codes of SPS/PPS/IDR. */
export function clearMediaSigns(bytes: Uint8Array): string[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signs: string[] = [];
  if (data.length >= 3 * TS_PACKET && [0, 1, 2].every((i) => data[i * TS_PACKET] === SYNC)) signs.push('TS sync bytes');
  // Top-level ISO BMFF boxes, walked by their sizes (a name found by chance inside ciphertext does not count).
  for (let offset = 0; offset + 8 <= data.length; ) {
    const size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    if (['ftyp', 'moov', 'moof', 'mdat'].includes(type)) signs.push(`'${type}' box at ${offset}`);
    if (size < 8 || !/^[a-z]{4}$/.test(type)) break;
    offset += size;
  }
  // 00 00 00 01 then nal_unit_type 7 (SPS), 8 (PPS) or 5 (IDR) with forbidden_zero_bit clear.
  for (let i = data.indexOf(Buffer.from([0, 0, 0, 1])); i !== -1; i = data.indexOf(Buffer.from([0, 0, 0, 1]), i + 1)) {
    const nal = data[i + 4];
    if (nal !== undefined && (nal & 0x80) === 0 && [5, 7, 8].includes(nal & 0x1f)) {
      signs.push(`H.264 start code of NAL type ${nal & 0x1f} at ${i}`);
      break;
    }
  }
  return signs;
}
