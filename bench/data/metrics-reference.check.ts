/**
 * mse, psnr and ssim against scikit-image 0.19.3 on the six reference pairs in
 * shared/reference/metrics (see its README): ssim 'skimage' is skimage's defaults
 * (ssim_a), 'wang' the Gaussian configuration (ssim_b; for the 7x9 pair, where
 * skimage raises, 'wang' must raise too and winSize 7 gives ssim_b_win7).
 *   npx tsc -p tsconfig.json; node dist/bench/data-checks.js metrics
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy } from '../../src/io/npy.js';
import { mse, psnr, ssim } from '../../src/metrics/index.js';
import { isHushError } from '../../src/core/errors.js';
import type { Image } from '../../src/core/image.js';

const TOLERANCE = 1e-4;

interface Pair {
  name: string;
  a: string;
  b: string;
  shape: number[];
  data_range: number;
  mse: number;
  psnr: number;
  ssim_a: number;
  ssim_b: number | null;
  ssim_b_win7?: number;
}

export default async function check(shared: string): Promise<string[]> {
  const dir = join(shared, 'reference', 'metrics');
  const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as { pairs: Pair[] };
  const load = async (f: string): Promise<Image> => decodeNpy(await readFile(join(dir, f)), { file: f });
  const lines: string[] = [];
  const failures: string[] = [];
  let worst = 0;
  const compare = (pair: string, what: string, computed: number, want: number): void => {
    const rel = Math.abs(computed - want) / Math.abs(want);
    worst = Math.max(worst, rel);
    const ok = rel <= TOLERANCE;
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${pair.padEnd(24)} ${what.padEnd(11)} ${computed.toPrecision(15).padStart(20)} vs ${want.toPrecision(15).padStart(20)}  rel ${rel.toExponential(1)}`);
    if (!ok) failures.push(`${pair} ${what}: ${computed} vs ${want} (rel ${rel.toExponential(2)})`);
  };

  for (const p of expected.pairs) {
    const [a, b] = [await load(p.a), await load(p.b)];
    const shape = a.channels === 1 ? [a.height, a.width] : [a.height, a.width, a.channels];
    if (shape.join('x') !== p.shape.join('x')) failures.push(`${p.name}: decoded shape ${shape.join('x')}, expected ${p.shape.join('x')}`);
    const dataRange = p.data_range;
    compare(p.name, 'mse', mse(a, b), p.mse);
    compare(p.name, 'psnr', psnr(a, b, { dataRange }), p.psnr);
    compare(p.name, 'ssim_a', ssim(a, b, { dataRange, config: 'skimage' }), p.ssim_a);
    if (p.ssim_b !== null) {
      compare(p.name, 'ssim_b', ssim(a, b, { dataRange, config: 'wang' }), p.ssim_b);
    } else {
      // skimage raises ValueError here; so must we, with a message that says what to do
      try {
        ssim(a, b, { dataRange, config: 'wang' });
        failures.push(`${p.name}: ssim 'wang' without winSize should throw (the 11x11 window exceeds the image)`);
      } catch (e) {
        if (!isHushError(e) || e.code !== 'ERR_INVALID_PARAMETER' || !/exceeds the image extent/.test(e.message)) throw e;
        lines.push(`ok   ${p.name.padEnd(24)} ssim_b      throws as skimage does: ${e.message}`);
      }
      if (p.ssim_b_win7 === undefined) throw new Error(`${p.name}: expected.json has no ssim_b_win7`);
      compare(p.name, 'ssim_b_win7', ssim(a, b, { dataRange, config: 'wang', winSize: 7 }), p.ssim_b_win7);
    }
  }
  lines.push(`worst relative error ${worst.toExponential(2)} (tolerance ${TOLERANCE})`);
  if (failures.length) throw new Error(`metrics reference: ${failures.length} mismatches:\n${failures.join('\n')}\n${lines.join('\n')}`);
  return lines;
}
