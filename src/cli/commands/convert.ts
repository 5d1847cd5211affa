import type { CommandSpec } from '../args.js';
import { numberOption, parseCommandArgs, stringOption, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { READ_OPTIONS, WRITE_OPTIONS, readOptions } from '../io-options.js';
import { readImage, writeImage, STRETCHES, type EncodeImageOptions } from '../../io/index.js';
import { checkOneOf } from '../../core/validate.js';

export const spec: CommandSpec = {
  name: 'convert',
  summary:
    'Convert IN to the format named by OUT\'s extension (.png .jpg .webp .tif .fits .fits.gz .npy). Lossless where the target can hold the data; float data (FITS, NPY, float TIFF) to 8/16-bit needs an explicit --stretch.',
  usage: 'hush convert IN OUT [--stretch linear|asinh|zscale] [--bit-depth 8|16|32] [--bitpix N] [--force]',
  options: {
    stretch: { type: 'string', valueName: 'S', description: `map float values to [0,1]: ${STRETCHES.join(', ')} (default none)` },
    'bit-depth': { type: 'string', valueName: 'B', description: 'PNG 8|16, TIFF 8|16|32 (32 = float); default: the source depth' },
    bitpix: { type: 'string', valueName: 'N', description: 'FITS output BITPIX 8|16|32|-32|-64 (default: the source\'s, else -32)' },
    dtype: { type: 'string', valueName: 'T', description: 'NPY output dtype float32|float64|uint8|uint16 (default: the source\'s, else float32)' },
    quality: { type: 'string', valueName: 'Q', description: 'JPEG/WebP quality 1..100 (default 95)' },
    lossless: { type: 'boolean', description: 'WebP: lossless' },
    ...WRITE_OPTIONS,
    ...READ_OPTIONS,
  },
  examples: ['hush convert scan.fits scan.png --stretch zscale --bit-depth 16', 'hush convert photo.tif photo.npy'],
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length !== 2) throw usageError(spec, `expected IN and OUT, got ${positionals.length} path(s)`);
  const [inPath, outPath] = positionals;
  const image = await readImage(inPath, readOptions(spec, values));
  const fn = 'hush convert';
  const bitDepth = numberOption(spec, values, 'bit-depth');
  const bitpix = numberOption(spec, values, 'bitpix');
  const quality = numberOption(spec, values, 'quality');
  const options: EncodeImageOptions = {
    stretch: values.stretch === undefined ? undefined : checkOneOf(fn, '--stretch', stringOption(values, 'stretch'), STRETCHES),
    bitDepth: bitDepth === undefined ? undefined : (Number(checkOneOf(fn, '--bit-depth', String(bitDepth), ['8', '16', '32'])) as 8 | 16 | 32),
    bitpix: bitpix === undefined ? undefined : (Number(checkOneOf(fn, '--bitpix', String(bitpix), ['8', '16', '32', '-32', '-64'])) as 8 | 16 | 32 | -32 | -64),
    dtype: values.dtype === undefined ? undefined : checkOneOf(fn, '--dtype', stringOption(values, 'dtype'), ['float32', 'float64', 'uint8', 'uint16'] as const),
    quality,
    lossless: values.lossless === true ? true : undefined,
    history: [`hush convert from ${inPath}`],
  };
  await writeImage(outPath, image, { ...options, ifExists: values.force ? 'overwrite' : 'error', protect: [inPath] });
  io.stderr(`wrote ${outPath} (${image.width}x${image.height}, ${image.channels} channel${image.channels === 1 ? '' : 's'})\n`);
  return 0;
}
