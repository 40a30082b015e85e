// One error factory for every option check, in the style of sharp:
// "Expected integer between 1 and 100 for crf but received 0".

/** Formats a received value for an error message without dumping large buffers. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Buffer.isBuffer(value)) return `Buffer of ${value.length} bytes`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'function') return 'function';
  try {
    const json = JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? `${item}n` : item));
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return typeof value;
  }
}

/**
 * The message of anything thrown, for a line of text: inside an AggregateError
 * with no message of its own (Node's happy-eyeballs connect), the first inner
 * error; an Error without a message, its code or name; anything else, as describeValue writes it.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    const first = error.errors[0] as unknown;
    if (first !== undefined) return errorMessage(first);
  }
  if (error instanceof Error) {
    const code = errorCode(error);
    return error.message || (typeof code === 'string' ? code : error.name);
  }
  return typeof error === 'string' ? error : describeValue(error);
}

/** The `code` of anything thrown (Node's 'ECONNREFUSED', a SQLSTATE from pg), or undefined. */
export function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null | undefined)?.code;
}

/**
 * A TypeError when the value has the wrong type, a RangeError when it has the
 * right type but is out of range. Both name the option and what was expected.
 */
export function invalidParameterError(name: string, expected: string, actual: unknown): TypeError | RangeError {
  const message = `Expected ${expected} for ${name} but received ${describeValue(actual)}`;
  const sameKind =
    (expected.includes('integer') || expected.includes('number')) ? typeof actual === 'number'
    : expected.includes('string') || expected.includes('one of') ? typeof actual === 'string'
    : expected.includes('array') ? Array.isArray(actual)
    : false;
  return sameKind ? new RangeError(message) : new TypeError(message);
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Error raised by the native pipeline or a later stage, kept with the caller's stack. */
export class AbrcastError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbrcastError';
  }
}

/** Gives `error` the stack of `callSite` (made where the user called us), as sharp does across its native calls. */
export function withCallSiteStack<E extends Error>(error: E, callSite: Error): E {
  const frames = callSite.stack?.split('\n').slice(1).join('\n');
  if (frames) error.stack = `${error.name}: ${error.message}\n${frames}`;
  return error;
}
