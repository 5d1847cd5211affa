/**
 * Typed errors for hush. Every user-facing failure is a HushError with a stable
 * `code`, so the CLI can map it to an exit status and tests can assert on it.
 */

export const ERROR_CODES = [
  'ERR_INVALID_PARAMETER',
  'ERR_UNSUPPORTED',
  'ERR_DECODE',
  'ERR_IO',
  'ERR_TOO_LARGE',
  'ERR_EXISTS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface HushErrorDetails {
  param?: string;
  expected?: string;
  received?: unknown;
  file?: string;
  hint?: string;
  cause?: unknown;
}

export class HushError extends Error {
  readonly code: ErrorCode;
  readonly param?: string;
  readonly expected?: string;
  readonly received?: unknown;
  readonly file?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, details: HushErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HushError';
    this.code = code;
    this.param = details.param;
    this.expected = details.expected;
    this.received = details.received;
    this.file = details.file;
    this.hint = details.hint;
  }
}

export function isHushError(e: unknown): e is HushError {
  return e instanceof HushError;
}

/** Renders a received value the way the house style shows it: `4 (number)`, `'gauss' (string)`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${shown}' (string)`;
  }
  if (typeof value === 'number') return `${String(value)} (number)`;
  if (typeof value === 'boolean') return `${String(value)} (boolean)`;
  if (typeof value === 'bigint') return `${String(value)} (bigint)`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

/** `fn: expected E for param but received R. Hint` */
export function invalidParameter(
  fn: string,
  param: string,
  expected: string,
  received: unknown,
  hint?: string,
): HushError {
  const tail = hint ? ` ${hint}` : '';
  return new HushError(
    'ERR_INVALID_PARAMETER',
    `${fn}: expected ${expected} for ${param} but received ${describeValue(received)}.${tail}`.replace(/\.\.$/, '.'),
    { param, expected, received, hint },
  );
}

/** `readImage: cannot decode 'scan.fits': header ends before END card (file is truncated?)` */
export function decodeError(fn: string, file: string, what: string, cause?: unknown): HushError {
  return new HushError('ERR_DECODE', `${fn}: cannot decode '${file}': ${what}`, { file, cause });
}

export function unsupported(fn: string, what: string, hint?: string): HushError {
  return new HushError('ERR_UNSUPPORTED', `${fn}: ${what}${hint ? `. ${hint}` : ''}`, { hint });
}
