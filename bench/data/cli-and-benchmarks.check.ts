/**
 * Data checks for the CLI and the stored benchmark inputs:
 * - `hush metrics A.npy B.npy --data-range R --json` reproduces scikit-image's values
 *   for the reference pairs (the same numbers a user gets from the command line);
 * - every stored noisy benchmark input decodes, matches its index entry (shape,
 *   sha256) and its clean image, with the PSNR that its sigma implies.
 */
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { readImage, decodeImages } from '../../src/io/index.js';
import { psnr } from '../../src/metrics/index.js';

interface Pair {
  name: string;
  a: string;
  b: string;
  data_range: number;
  psnr: number;
  ssim_a: number;
  ssim_b?: number;
}

interface IndexItem {
  name: string;
  sigma: number;
  clean: string;
  noisy: string;
  shape: number[];
  noisy_sha256: string;
}

export default async function check(shared: string): Promise<string[]> {
  const lines: string[] = [];
  const refDir = join(shared, 'reference', 'metrics');
  const expected = JSON.parse(await readFile(join(refDir, 'expected.json'), 'utf8')) as { pairs: Pair[] };
  for (const p of expected.pairs) {
    if (p.ssim_b === undefined || typeof p.ssim_b !== 'number') continue; // the 7x9 pair: config (b) raises, as in skimage
    let out = '';
    let err = '';
    const code = await main(['metrics', join(refDir, p.a), join(refDir, p.b), '--data-range', String(p.data_range), '--json'], {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      isTTY: false,
    });
    if (code !== 0) throw new Error(`hush metrics failed on ${p.name}: ${err}`);
    const j = JSON.parse(out) as { psnr: number; ssim: number; ssimUniform: number };
    for (const [k, got, want] of [
      ['psnr', j.psnr, p.psnr],
      ['ssim', j.ssim, p.ssim_b],
      ['ssimUniform', j.ssimUniform, p.ssim_a],
    ] as const) {
      const rel = Math.abs(got - want) / Math.abs(want);
      if (!(rel <= 1e-4)) throw new Error(`hush metrics ${p.name} ${k}: ${got} vs ${want} (rel ${rel})`);
    }
    lines.push(`hush metrics ${p.name}: PSNR ${j.psnr.toFixed(6)}, SSIM ${j.ssim.toFixed(6)}, SSIM uniform ${j.ssimUniform.toFixed(6)} (match)`);
  }
  for (const set of ['set12', 'bsd68']) {
    const index = JSON.parse(await readFile(join(shared, 'benchmarks', set, 'index.json'), 'utf8')) as { items: IndexItem[] };
    const bySigma = new Map<number, number[]>();
    for (const item of index.items) {
      const bytes = await readFile(join(shared, item.noisy));
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== item.noisy_sha256) throw new Error(`${item.noisy}: sha256 ${sha} differs from the index`);
      const [noisy] = await decodeImages(bytes, item.noisy);
      const clean = await readImage(join(shared, item.clean));
      if (noisy.height !== item.shape[0] || noisy.width !== item.shape[1] || clean.width !== noisy.width || clean.height !== noisy.height) {
        throw new Error(`${item.noisy}: shape ${noisy.height}x${noisy.width} vs index ${item.shape.join('x')}`);
      }
      const p = psnr(clean, noisy, { dataRange: 1 });
      const want = 20 * Math.log10(255 / item.sigma);
      if (Math.abs(p - want) > 0.25) throw new Error(`${item.noisy}: PSNR ${p.toFixed(3)} dB, expected about ${want.toFixed(3)} for sigma ${item.sigma}`);
      const list = bySigma.get(item.sigma) ?? [];
      list.push(p);
      bySigma.set(item.sigma, list);
    }
    for (const [sigma, ps] of bySigma) {
      lines.push(`${set} sigma ${sigma}: ${ps.length} noisy inputs, sha256 ok, mean input PSNR ${(ps.reduce((a, b) => a + b, 0) / ps.length).toFixed(3)} dB`);
    }
  }
  return lines;
}
