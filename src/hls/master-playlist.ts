// Master Playlist serializer (RFC 8216 4.3.4). Pure: model in, text out.
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { checkUri, decimalInteger, quotedString } from './playlist-text.js';
import type { MasterPlaylist, VariantStream } from './types.js';

/**
 * Lowest EXT-X-VERSION covering what the playlist uses (RFC 8216 7). None of the
 * tags or attributes written here (STREAM-INF with AVERAGE-BANDWIDTH, CODECS,
 * RESOLUTION, FRAME-RATE, CLOSED-CAPTIONS; INDEPENDENT-SEGMENTS) is tied to a later version.
 */
export const MASTER_PLAYLIST_VERSION = 1;

function streamInfAttributes(variant: VariantStream, position: number): string {
  const at = (attribute: string) => `${attribute} of variant ${position}`;
  const attributes = [`BANDWIDTH=${decimalInteger(at('bandwidth'), variant.bandwidth, 1)}`];
  if (variant.averageBandwidth !== undefined) {
    attributes.push(`AVERAGE-BANDWIDTH=${decimalInteger(at('averageBandwidth'), variant.averageBandwidth, 1)}`);
  }
  if (typeof variant.codecs !== 'string' || variant.codecs.length === 0) {
    throw invalidParameterError(at('codecs'), 'non-empty string', variant.codecs);
  }
  attributes.push(`CODECS=${quotedString(at('codecs'), variant.codecs)}`);
  if (typeof variant.resolution !== 'object' || variant.resolution === null) {
    throw invalidParameterError(at('resolution'), 'object with width and height', variant.resolution);
  }
  const { width, height } = variant.resolution;
  attributes.push(`RESOLUTION=${decimalInteger(at('width'), width, 1)}x${decimalInteger(at('height'), height, 1)}`);
  if (!isPositiveFinite(variant.frameRate)) {
    throw invalidParameterError(at('frameRate'), 'positive number', variant.frameRate);
  }
  // RFC 8216 4.3.4.2: FRAME-RATE is rounded to three decimal places.
  attributes.push(`FRAME-RATE=${variant.frameRate.toFixed(3)}`);
  // abrcast's video carries no CEA-608/708 captions (the encoder writes no caption SEI). Said
  // on every variant, as RFC 8216bis 4.4.6.2 asks of NONE: without it Shaka Player probes a
  // segment for 608 captions, and on an LL playlist picks the one listed only as parts and
  // fails (TypeError: Cannot read properties of undefined (reading 'match'), Shaka 5.2).
  attributes.push('CLOSED-CAPTIONS=NONE');
  attributes.push(`NAME=${quotedString(at('name'), variant.name)}`);
  return attributes.join(',');
}

export function serializeMasterPlaylist(playlist: MasterPlaylist): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${MASTER_PLAYLIST_VERSION}`];
  if (playlist.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  playlist.variants.forEach((variant, position) => {
    lines.push(`#EXT-X-STREAM-INF:${streamInfAttributes(variant, position)}`, checkUri(`uri of variant ${position}`, variant.uri));
  });
  return `${lines.join('\n')}\n`;
}
