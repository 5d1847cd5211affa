import type { CommandSpec } from '../args.js';
import { numberOption, parseCommandArgs, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { READ_OPTIONS, readOptions } from '../io-options.js';
import { readImage } from '../../io/index.js';
import { mse, psnr, ssim } from '../../metrics/index.js';
import { HushError } from '../../core/errors.js';

export const spec: CommandSpec = {
  name: 'metrics',
  summary: 'Compare TEST with REFERENCE: MSE, PSNR, SSIM (Wang et al. 2004: Gaussian window, sigma 1.5) and SSIM with scikit-image defaults (7x7 uniform window).',
  usage: 'hush metrics REFERENCE TEST [--data-range R] [--json]',
  options: {
    'data-range': {
      type: 'string',
      valueName: 'R',
      description: 'value range for PSNR/SSIM (default 1 for 8/16-bit images; required for float images)',
    },
    json: { type: 'boolean', description: 'print JSON: mse, psnr, ssim (Wang et al.), ssimUniform (scikit-image default)' },
    ...READ_OPTIONS,
  },
  examples: ['hush metrics clean.png denoised.png', 'hush metrics clean.png noisy.npy --json'],
};

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length !== 2) throw usageError(spec, `expected REFERENCE and TEST, got ${positionals.length} path(s)`);
  const [refPath, testPath] = positionals;
  const ro = readOptions(spec, values);
  const [reference, test] = await Promise.all([readImage(refPath, ro), readImage(testPath, ro)]);
  let dataRange = numberOption(spec, values, 'data-range');
  if (dataRange === undefined) {
    if (reference.source?.scale === 'physical') {
      throw new HushError(
        'ERR_INVALID_PARAMETER',
        `hush metrics: '${refPath}' holds float values, so the data range is not implied; pass --data-range R (for example 1 for images on [0,1])`,
        { param: '--data-range' },
      );
    }
    dataRange = 1;
  }
  const result = {
    reference: refPath,
    test: testPath,
    width: reference.width,
    height: reference.height,
    channels: reference.channels,
    dataRange,
    mse: mse(reference, test),
    psnr: psnr(reference, test, { dataRange }),
    ssim: ssim(reference, test, { dataRange, config: 'wang' }),
    ssimUniform: ssim(reference, test, { dataRange, config: 'skimage' }),
  };
  if (values.json) {
    io.stdout(`${JSON.stringify(result, (_k, v) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
  } else {
    io.stdout(
      [
        `PSNR         ${result.psnr.toFixed(4)} dB   (data range ${dataRange})`,
        `SSIM         ${result.ssim.toFixed(6)}     (Wang et al. 2004: Gaussian window sigma 1.5)`,
        `SSIM uniform ${result.ssimUniform.toFixed(6)}     (scikit-image default: 7x7 uniform window)`,
        `MSE          ${result.mse.toPrecision(6)}`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}
