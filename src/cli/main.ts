/**
 * The hush command line: a table of lazily loaded commands. Exit 0 on success,
 * 2 on bad input or usage (one line and a hint), 1 on a runtime failure.
 */
import { isHushError } from '../core/errors.js';
import type { CommandSpec } from './args.js';
import { formatHelp } from './args.js';
import { closestChoice } from '../core/validate.js';

export interface CommandModule {
  spec: CommandSpec;
  run(argv: string[], io: CliIO): Promise<number | void>;
}

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** true when stderr is a terminal (progress bars) */
  isTTY: boolean;
}

export const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  denoise: { summary: 'denoise an image: a chosen method, or the best one found by self-supervised calibration', load: () => import('./commands/denoise.js') },
  calibrate: { summary: "tune a denoiser's parameters on the noisy image itself (J-invariant loss, Noise2Self)", load: () => import('./commands/calibrate.js') },
  noise: { summary: 'add seeded, realistic noise to an image', load: () => import('./commands/noise.js') },
  metrics: { summary: 'PSNR, SSIM and MSE of a test image against a reference', load: () => import('./commands/metrics.js') },
  info: { summary: 'size, channels, bit depth, value range and FITS header of an image', load: () => import('./commands/info.js') },
  convert: { summary: 'convert between PNG, JPEG, WebP, TIFF, FITS and NPY', load: () => import('./commands/convert.js') },
  train: { summary: 'train a denoising network: supervised, Noise2Noise, or self-supervised from noisy images alone', load: () => import('./commands/train.js') },
  models: { summary: 'list the neural network architectures with parameter counts and FLOPs per pixel', load: () => import('./commands/models.js') },
};

export function mainHelp(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length)) + 2;
  return [
    'Usage: hush <command> [options]',
    '',
    'Image denoising without Python.',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(w)}${v.summary}`),
    '',
    "Run 'hush <command> --help' for the options of a command.",
    '',
  ].join('\n');
}

const defaultIO: CliIO = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
};

/** Exit status for an error: 2 for bad input or usage, 1 for a runtime failure. */
export function exitCodeFor(e: unknown): number {
  if (!isHushError(e)) return 1;
  if (e.code === 'ERR_IO') return e.message.startsWith('readImage') ? 2 : 1;
  return 2;
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  const verbose = argv.includes('--verbose');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    io.stdout(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const guess = closestChoice(name, Object.keys(COMMANDS));
    io.stderr(`hush: unknown command '${name}'.${guess ? ` Did you mean '${guess}'?` : ''} Run 'hush --help' for the list.\n`);
    return 2;
  }
  try {
    const mod = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(formatHelp(mod.spec));
      return 0;
    }
    const code = await mod.run(rest, io);
    return code ?? 0;
  } catch (e) {
    const status = exitCodeFor(e);
    if (isHushError(e)) {
      io.stderr(`${e.message}\n`);
      if (e.hint && !e.message.includes(e.hint)) io.stderr(`hint: ${e.hint}\n`);
      if (verbose && e.stack) io.stderr(`${e.stack}\n`);
    } else {
      const err = e as Error;
      io.stderr(`hush ${name}: unexpected error: ${err?.message ?? String(e)}\n`);
      io.stderr(verbose ? `${err?.stack ?? ''}\n` : 'Run again with --verbose for details.\n');
    }
    return status;
  }
}
