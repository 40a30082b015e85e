// EXT-X-DATERANGE (RFC 8216bis 4.4.5.1): the checks a range must pass, the rule for two tags with
// the same ID (an attribute in both has the same value, so a later tag may only add attributes),
// and the tag's text. Pure: model in, text out.
import { invalidParameterError } from '../errors.js';
import { quotedString } from './playlist-text.js';
import type { DateRange, DateRangeValue } from './types.js';

const CLIENT_ATTRIBUTE = /^X-[A-Z0-9-]+$/;
const CUES = ['PRE', 'POST', 'ONCE'] as const;
/** Dates are written to the millisecond (toISOString); a DURATION/END-DATE pair agrees within that. */
const DATE_TOLERANCE_MS = 1;

function validDate(name: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalidParameterError(name, 'valid Date', value);
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalidParameterError(name, 'number of seconds, 0 or more', value);
  return value;
}

function bytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0) throw invalidParameterError(name, 'non-empty Uint8Array', value);
  return value;
}

/** A decimal-floating-point as the tag writes it: milliseconds at most, no exponent. */
function decimalSeconds(value: number): string {
  return String(Number(value.toFixed(3)));
}

function hexadecimal(value: Uint8Array): string {
  return `0x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex').toUpperCase()}`;
}

function clientValue(name: string, value: DateRangeValue): string {
  if (typeof value === 'string') return quotedString(name, value);
  if (value instanceof Uint8Array) return hexadecimal(bytes(name, value));
  return decimalSeconds(nonNegative(name, value));
}

/** Throws an invalidParameterError naming the first attribute that breaks RFC 8216bis 4.4.5.1. */
export function checkDateRange(range: DateRange, name = 'dateRange'): void {
  if (typeof range !== 'object' || range === null) throw invalidParameterError(name, 'object with id and startDate', range);
  if (typeof range.id !== 'string' || range.id.length === 0) throw invalidParameterError(`${name}.id`, 'non-empty string', range.id);
  quotedString(`${name}.id`, range.id);
  if (range.class !== undefined) quotedString(`${name}.class`, range.class);
  const start = validDate(`${name}.startDate`, range.startDate).getTime();
  if (range.endDate !== undefined && validDate(`${name}.endDate`, range.endDate).getTime() < start) {
    throw invalidParameterError(`${name}.endDate`, `a date at or after startDate (${range.startDate.toISOString()})`, range.endDate);
  }
  if (range.duration !== undefined) nonNegative(`${name}.duration`, range.duration);
  if (range.plannedDuration !== undefined) nonNegative(`${name}.plannedDuration`, range.plannedDuration);
  if (range.duration !== undefined && range.endDate !== undefined &&
      Math.abs(start + range.duration * 1000 - range.endDate.getTime()) > DATE_TOLERANCE_MS) {
    throw invalidParameterError(`${name}.endDate`, `startDate + duration (${new Date(start + range.duration * 1000).toISOString()})`, range.endDate);
  }
  if (range.cue !== undefined) {
    if (!Array.isArray(range.cue) || range.cue.length === 0 || range.cue.some((c) => !CUES.includes(c)) || new Set(range.cue).size !== range.cue.length) {
      throw invalidParameterError(`${name}.cue`, 'non-empty list of distinct PRE, POST, ONCE', range.cue);
    }
  }
  for (const key of ['scte35Cmd', 'scte35Out', 'scte35In'] as const) {
    if (range[key] !== undefined) bytes(`${name}.${key}`, range[key]);
  }
  if (range.endOnNext !== undefined && typeof range.endOnNext !== 'boolean') throw invalidParameterError(`${name}.endOnNext`, 'boolean', range.endOnNext);
  if (range.endOnNext) {
    if (range.class === undefined) throw invalidParameterError(`${name}.class`, 'a CLASS (END-ON-NEXT=YES needs one)', range.class);
    if (range.duration !== undefined || range.endDate !== undefined) {
      throw invalidParameterError(`${name}.endOnNext`, 'no END-ON-NEXT with DURATION or END-DATE', range.endOnNext);
    }
  }
  for (const [attribute, value] of Object.entries(range.clientAttributes ?? {})) {
    if (!CLIENT_ATTRIBUTE.test(attribute)) throw invalidParameterError(`${name}.clientAttributes`, 'names X- followed by A-Z, 0-9 or -', attribute);
    clientValue(`${name}.clientAttributes.${attribute}`, value);
  }
}

/** The attributes of a range by their name in the tag, with the text of each value. */
function attributes(range: DateRange): [string, string][] {
  const out: [string, string][] = [['ID', quotedString('id', range.id)]];
  if (range.class !== undefined) out.push(['CLASS', quotedString('class', range.class)]);
  out.push(['START-DATE', `"${range.startDate.toISOString()}"`]);
  if (range.cue !== undefined) out.push(['CUE', `"${range.cue.join(',')}"`]);
  if (range.endDate !== undefined) out.push(['END-DATE', `"${range.endDate.toISOString()}"`]);
  if (range.duration !== undefined) out.push(['DURATION', decimalSeconds(range.duration)]);
  if (range.plannedDuration !== undefined) out.push(['PLANNED-DURATION', decimalSeconds(range.plannedDuration)]);
  for (const [attribute, value] of Object.entries(range.clientAttributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.push([attribute, clientValue(attribute, value)]);
  }
  if (range.scte35Cmd !== undefined) out.push(['SCTE35-CMD', hexadecimal(range.scte35Cmd)]);
  if (range.scte35Out !== undefined) out.push(['SCTE35-OUT', hexadecimal(range.scte35Out)]);
  if (range.scte35In !== undefined) out.push(['SCTE35-IN', hexadecimal(range.scte35In)]);
  if (range.endOnNext) out.push(['END-ON-NEXT', 'YES']);
  return out;
}

/** The EXT-X-DATERANGE line of a checked range. */
export function dateRangeLine(range: DateRange): string {
  checkDateRange(range);
  return `#EXT-X-DATERANGE:${attributes(range).map(([name, value]) => `${name}=${value}`).join(',')}`;
}

/**
 * `update` applied to `existing` (same ID): RFC 8216bis lets a later tag add attributes (an
 * END-DATE once known, an SCTE35-IN) but an attribute in both must keep its value. Throws a
 * RangeError naming the attribute that changed; the result is checked as a whole.
 */
export function mergeDateRange(existing: DateRange, update: DateRange): DateRange {
  const before = new Map(attributes(existing));
  for (const [name, value] of attributes(update)) {
    const old = before.get(name);
    if (old !== undefined && old !== value) {
      throw new RangeError(
        `Date range ${existing.id}: ${name} is ${old} and cannot change to ${value} (RFC 8216bis 4.4.5.1: a later tag with the same ID keeps every value it had)`,
      );
    }
  }
  const merged: DateRange = {
    ...existing,
    ...Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined)),
    clientAttributes: { ...existing.clientAttributes, ...update.clientAttributes },
  };
  if (Object.keys(merged.clientAttributes!).length === 0) delete merged.clientAttributes;
  checkDateRange(merged, `date range ${existing.id}`);
  return merged;
}

