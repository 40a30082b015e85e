// What a channel name may look like: it is a URL path segment
// (/channels/{name}/master.m3u8) that people type, so a short slug.
import { invalidParameterError } from '../errors.js';

/** 1 to 40 lowercase letters, digits and '-', starting and ending with a letter or digit. */
export const CHANNEL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export function isValidChannelName(value: unknown): value is string {
  return typeof value === 'string' && CHANNEL_NAME_PATTERN.test(value);
}

/** Throws invalidParameterError naming `name` and the value unless it is a channel name. */
export function requireChannelName(name: string, value: unknown): asserts value is string {
  if (!isValidChannelName(value)) {
    throw invalidParameterError(name, `channel name matching ${CHANNEL_NAME_PATTERN} (1 to 40 lowercase letters, digits and inner '-')`, value);
  }
}
