// Master Playlist serializer (RFC 8216 4.3.4). Pure: model in, text out.
import { invalidParameterError, isPositiveFinite } from '../errors.js';
import { checkUri, decimalInteger, quotedString } from './playlist-text.js';
import type { IframeStream, ImageStream, MasterPlaylist, MediaRendition, Resolution, VariantStream } from './types.js';

/**
 * Lowest EXT-X-VERSION covering what the playlist uses (RFC 8216 7). None of the
 * tags or attributes written here (STREAM-INF with AVERAGE-BANDWIDTH, CODECS,
 * RESOLUTION, FRAME-RATE, CLOSED-CAPTIONS; INDEPENDENT-SEGMENTS) is tied to a later version.
 */
export const MASTER_PLAYLIST_VERSION = 1;

function resolutionAttribute(name: string, resolution: Resolution): string {
  if (typeof resolution !== 'object' || resolution === null) {
    throw invalidParameterError(name, 'object with width and height', resolution);
  }
  return `RESOLUTION=${decimalInteger(`width of ${name}`, resolution.width, 1)}x${decimalInteger(`height of ${name}`, resolution.height, 1)}`;
}

function codecsAttribute(name: string, codecs: string): string {
  if (typeof codecs !== 'string' || codecs.length === 0) throw invalidParameterError(name, 'non-empty string', codecs);
  return `CODECS=${quotedString(name, codecs)}`;
}

/** EXT-X-MEDIA (RFC 8216bis 4.4.6.1). */
function mediaLine(media: MediaRendition, position: number): string {
  const at = (attribute: string) => `${attribute} of media ${position}`;
  if (media.type !== 'SUBTITLES') throw invalidParameterError(at('type'), 'SUBTITLES', media.type);
  // AUTOSELECT must be YES when DEFAULT is YES.
  if (media.default && !media.autoselect) throw invalidParameterError(at('autoselect'), 'true when default is true', media.autoselect);
  const attributes = [
    `TYPE=${media.type}`,
    `GROUP-ID=${quotedString(at('groupId'), media.groupId)}`,
    `NAME=${quotedString(at('name'), media.name)}`,
  ];
  if (media.language !== undefined) attributes.push(`LANGUAGE=${quotedString(at('language'), media.language)}`);
  attributes.push(`DEFAULT=${media.default ? 'YES' : 'NO'}`, `AUTOSELECT=${media.autoselect ? 'YES' : 'NO'}`);
  attributes.push(`URI=${quotedString(at('uri'), checkUri(at('uri'), media.uri))}`);
  return `#EXT-X-MEDIA:${attributes.join(',')}`;
}

/** EXT-X-I-FRAME-STREAM-INF (RFC 8216bis 4.4.6.3): the STREAM-INF attributes that apply, and URI. */
function iframeStreamLine(stream: IframeStream, position: number): string {
  const at = (attribute: string) => `${attribute} of I-frame stream ${position}`;
  const attributes = [`BANDWIDTH=${decimalInteger(at('bandwidth'), stream.bandwidth, 1)}`];
  if (stream.averageBandwidth !== undefined) {
    attributes.push(`AVERAGE-BANDWIDTH=${decimalInteger(at('averageBandwidth'), stream.averageBandwidth, 1)}`);
  }
  attributes.push(codecsAttribute(at('codecs'), stream.codecs), resolutionAttribute(at('resolution'), stream.resolution));
  attributes.push(`URI=${quotedString(at('uri'), checkUri(at('uri'), stream.uri))}`);
  return `#EXT-X-I-FRAME-STREAM-INF:${attributes.join(',')}`;
}

/** EXT-X-IMAGE-STREAM-INF (the HLS Image Media Playlist convention). */
function imageStreamLine(stream: ImageStream, position: number): string {
  const at = (attribute: string) => `${attribute} of image stream ${position}`;
  return `#EXT-X-IMAGE-STREAM-INF:${[
    `BANDWIDTH=${decimalInteger(at('bandwidth'), stream.bandwidth, 1)}`,
    resolutionAttribute(at('resolution'), stream.resolution),
    codecsAttribute(at('codecs'), stream.codecs),
    `URI=${quotedString(at('uri'), checkUri(at('uri'), stream.uri))}`,
  ].join(',')}`;
}

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
  if (variant.subtitles !== undefined) attributes.push(`SUBTITLES=${quotedString(at('subtitles'), variant.subtitles)}`);
  return attributes.join(',');
}

export function serializeMasterPlaylist(playlist: MasterPlaylist): string {
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${MASTER_PLAYLIST_VERSION}`];
  if (playlist.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  const groups = new Set((playlist.media ?? []).map((media) => media.groupId));
  (playlist.media ?? []).forEach((media, position) => lines.push(mediaLine(media, position)));
  playlist.variants.forEach((variant, position) => {
    // RFC 8216bis 4.4.6.2: SUBTITLES names a group of EXT-X-MEDIA in this playlist.
    if (variant.subtitles !== undefined && !groups.has(variant.subtitles)) {
      throw invalidParameterError(`subtitles of variant ${position}`, `one of the EXT-X-MEDIA groups (${[...groups].join(', ') || 'none'})`, variant.subtitles);
    }
    lines.push(`#EXT-X-STREAM-INF:${streamInfAttributes(variant, position)}`, checkUri(`uri of variant ${position}`, variant.uri));
  });
  (playlist.iframeStreams ?? []).forEach((stream, position) => lines.push(iframeStreamLine(stream, position)));
  (playlist.imageStreams ?? []).forEach((stream, position) => lines.push(imageStreamLine(stream, position)));
  return `${lines.join('\n')}\n`;
}
