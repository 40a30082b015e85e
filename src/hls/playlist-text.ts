// Checks shared by the playlist serializers: values that would break the
// line/attribute syntax of RFC 8216 4.1-4.2 are rejected, not escaped (HLS has no escaping).
import { invalidParameterError, isInteger } from '../errors.js';

const LINE_BREAK = /[\r\n]/;

/** A URI line: non-empty, one line, not starting with '#' (that would read as a tag). */
export function checkUri(name: string, uri: unknown): string {
  if (typeof uri !== 'string' || uri.length === 0 || LINE_BREAK.test(uri) || uri.startsWith('#') || uri.trim() !== uri) {
    throw invalidParameterError(name, 'non-empty single-line string not starting with # or whitespace', uri);
  }
  return uri;
}

/** A quoted-string attribute value (RFC 8216 4.2): no double quote, CR or LF. */
export function quotedString(name: string, value: unknown): string {
  if (typeof value !== 'string' || /["\r\n]/.test(value)) {
    throw invalidParameterError(name, 'string without double quotes or line breaks', value);
  }
  return `"${value}"`;
}

/** A decimal-integer (RFC 8216 4.2): 0 to 2^64-1; JavaScript keeps it exact up to 2^53-1. */
export function decimalInteger(name: string, value: unknown, min = 0): string {
  if (!isInteger(value) || value < min || value > Number.MAX_SAFE_INTEGER) {
    throw invalidParameterError(name, `integer between ${min} and ${Number.MAX_SAFE_INTEGER}`, value);
  }
  return String(value);
}
