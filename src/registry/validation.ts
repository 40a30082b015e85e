// What a run id and a quality name may look like. They end up in URL paths
// (/runs/{id}/quality/{name}/playlist.m3u8), so the server answers 400 for
// anything else before touching the database.

/** Lowercase letters, digits, '_' and '-', starting with a letter or digit, at most 64 characters. */
export const RUN_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Rendition names such as `720p` or `high_1`: lowercase letters, digits, '_' and '-', 1 to 32 characters. */
export const QUALITY_NAME_PATTERN = /^[a-z0-9_-]{1,32}$/;

export function isValidRunId(value: unknown): value is string {
  return typeof value === 'string' && RUN_ID_PATTERN.test(value);
}

export function isValidQualityName(value: unknown): value is string {
  return typeof value === 'string' && QUALITY_NAME_PATTERN.test(value);
}

/** Channel names (a stable URL, /channels/{name}/master.m3u8): a short slug of lowercase letters, digits and '-'. */
export const CHANNEL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export function isValidChannelName(value: unknown): value is string {
  return typeof value === 'string' && CHANNEL_NAME_PATTERN.test(value);
}
