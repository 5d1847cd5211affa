/** Options shared by commands that read and write images. */
import type { OptionTable, ParsedArgs, CommandSpec } from './args.js';
import { numberOption, stringOption, usageError } from './args.js';
import type { ReadImageOptions } from '../io/index.js';
import { DEFAULT_PIXEL_LIMIT } from '../core/image.js';

export const READ_OPTIONS: OptionTable = {
  hdu: { type: 'string', valueName: 'N', description: 'FITS: read the image in HDU N (default: first HDU with an image)' },
  plane: { type: 'string', valueName: 'K', description: 'FITS cube: use plane K (default 0)' },
  'max-pixels': {
    type: 'string',
    valueName: 'N',
    description: `refuse larger images (default ${DEFAULT_PIXEL_LIMIT}, or HUSH_MAX_PIXELS; 0 = no limit)`,
  },
};

export const WRITE_OPTIONS: OptionTable = {
  force: { type: 'boolean', short: 'f', description: 'replace OUT if it exists' },
};

export function readOptions(spec: CommandSpec, values: ParsedArgs['values']): ReadImageOptions {
  const env = process.env.HUSH_MAX_PIXELS;
  const maxPixels = numberOption(spec, values, 'max-pixels') ?? (env !== undefined && env !== '' ? Number(env) : undefined);
  if (maxPixels !== undefined && (!Number.isInteger(maxPixels) || maxPixels < 0)) {
    throw usageError(spec, `expected a whole number of at least 0 for --max-pixels (or HUSH_MAX_PIXELS) but received ${String(maxPixels)}`);
  }
  const hdu = numberOption(spec, values, 'hdu');
  const plane = numberOption(spec, values, 'plane');
  for (const [k, v] of [['hdu', hdu], ['plane', plane]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw usageError(spec, `expected a whole number of at least 0 for --${k} but received ${String(v)}`);
  }
  return { maxPixels, hdu, plane };
}

export function outputPath(spec: CommandSpec, values: ParsedArgs['values']): string {
  const out = stringOption(values, 'output');
  if (!out) throw usageError(spec, 'missing -o OUT (where to write the result)');
  return out;
}
