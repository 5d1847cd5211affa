import type { CommandSpec } from '../args.js';
import { parseCommandArgs, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { READ_OPTIONS, readOptions } from '../io-options.js';
import { readImages } from '../../io/index.js';
import { valueRange, type Image } from '../../core/image.js';

export const spec: CommandSpec = {
  name: 'info',
  summary: 'Print size, channels, bit depth, value range and, for FITS, the header of each image in FILE.',
  usage: 'hush info FILE [--json] [--hdu N]',
  options: {
    json: { type: 'boolean', description: 'print JSON' },
    ...READ_OPTIONS,
  },
};

function describe(im: Image): Record<string, unknown> {
  const { min, max } = valueRange(im);
  let masked = 0;
  if (im.mask) for (const m of im.mask) masked += m;
  return {
    width: im.width,
    height: im.height,
    channels: im.channels,
    format: im.source?.format,
    sampleFormat: im.source?.sampleFormat,
    scale: im.source?.scale,
    min,
    max,
    maskedSamples: masked,
    fits: im.fits ? { hdu: im.fits.hdu, bitpix: im.fits.bitpix, bscale: im.fits.bscale, bzero: im.fits.bzero, blank: im.fits.blank, header: im.fits.cards } : undefined,
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length !== 1) throw usageError(spec, `expected one FILE, got ${positionals.length}`);
  const file = positionals[0];
  const images = await readImages(file, readOptions(spec, values));
  const described = images.map(describe);
  if (values.json) {
    io.stdout(`${JSON.stringify({ file, images: described }, null, 2)}\n`);
    return 0;
  }
  const lines: string[] = [];
  described.forEach((d, i) => {
    const prefix = images.length > 1 ? `plane ${i}: ` : '';
    const depth = { uint8: '8-bit', uint16: '16-bit', int16: '16-bit signed', int32: '32-bit integer', float32: '32-bit float', float64: '64-bit float' }[String(d.sampleFormat)] ?? '?';
    lines.push(`${prefix}${file}: ${String(d.format).toUpperCase()} ${d.width}x${d.height}, ${d.channels} channel${d.channels === 1 ? '' : 's'}, ${depth}, ${d.scale === 'unit' ? 'values scaled to [0,1]' : 'physical values'}`);
    lines.push(`${prefix}value range ${fmt(d.min as number)} .. ${fmt(d.max as number)}${(d.maskedSamples as number) > 0 ? `, ${String(d.maskedSamples)} samples without data (masked)` : ''}`);
  });
  const fits = images[0].fits;
  if (fits) {
    lines.push(`FITS HDU ${fits.hdu}, BITPIX ${fits.bitpix}, BSCALE ${fits.bscale}, BZERO ${fits.bzero}${fits.blank !== undefined ? `, BLANK ${fits.blank}` : ''}`);
    lines.push('header:');
    for (const c of fits.cards) lines.push(`  ${c.trimEnd()}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v);
}
