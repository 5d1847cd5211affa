import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { resolveParams } from '../../src/core/params.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { mse } from '../../src/metrics/index.js';
import { calibrationRegion, denoiseAuto, thinValues } from '../../src/denoise/auto.js';
import type { DenoiserInfo } from '../../src/denoise/types.js';
import { testPattern } from '../helpers/images.js';

/** A (2r+1)^2 box mean with clamped borders that leaves masked samples alone; counts its calls. */
function box(id = 'box-test', counter = { calls: 0 }): DenoiserInfo {
  return {
    id,
    summary: 'box mean',
    params: [
      { name: 'radius', type: 'number', integer: true, min: 0, max: 10, default: 1, description: 'half width' },
      { name: 'sigma', type: 'number', min: 0, description: 'noise level (unused)' },
    ],
    usesSigma: true,
    calibrationGrid: () => ({ radius: [0, 1, 2, 3, 4, 5, 6] }),
    async denoise(image, options) {
      counter.calls++;
      const { radius: r } = resolveParams(id, this.params, options) as { radius: number };
      const { width, height, data, mask } = image;
      const out = data.slice();
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (mask?.[y * width + x]) continue;
          let s = 0;
          let n = 0;
          for (let dy = -r; dy <= r; dy++) {
            for (let dx = -r; dx <= r; dx++) {
              const j = Math.min(height - 1, Math.max(0, y + dy)) * width + Math.min(width - 1, Math.max(0, x + dx));
              if (mask?.[j]) continue;
              s += data[j];
              n++;
            }
          }
          out[y * width + x] = s / n;
        }
      }
      return { ...image, data: out };
    },
  };
}

/** Scales the image towards its mean: a poor denoiser on a scene with edges. */
const SHRINK: DenoiserInfo = {
  id: 'shrink-test',
  summary: 'towards the mean',
  params: [{ name: 'k', type: 'number', min: 0, max: 1, default: 0.5, description: 'weight of the mean' }],
  usesSigma: false,
  calibrationGrid: () => ({ k: [0.1, 0.3, 0.5] }),
  async denoise(image, options) {
    const { k } = resolveParams('shrink-test', this.params, options) as { k: number };
    let s = 0;
    for (const v of image.data) s += v;
    const m = s / image.data.length;
    return { ...image, data: image.data.map((v) => (1 - k) * v + k * m) };
  },
};

/**
 * Flat blocks under strong noise: a scene a box mean suits. (On testPattern's fine ripples
 * the J-invariant radius 0, the four-neighbour mean, wins, and the plain radius 0 is the
 * identity: the loss ranks J-invariant versions, see docs/calibration.md.)
 */
function blocks(size: number): Image {
  const im = createImage(size, size, 1);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) im.data[y * size + x] = 0.3 + 0.4 * (((x >> 4) + (y >> 4)) & 1);
  return im;
}

test('denoiseAuto picks the candidate and setting with the lowest self-supervised loss', async () => {
  const clean = blocks(96);
  const noisy = addGaussianNoise(clean, { sigma: 0.2, seed: 4 });
  const r = await denoiseAuto(noisy, { candidates: [SHRINK, box()], budget: 60, cropSide: 48 });
  assert.equal(r.chosen.method, 'box-test');
  assert.equal(r.sigmaSource, 'estimated');
  assert.ok(Math.abs(r.sigma - 0.2) < 0.02, `sigma ${r.sigma}`);
  assert.equal(r.chosen.params.sigma, r.sigma, 'a method that uses sigma gets the estimate');
  assert.deepEqual(r.table.map((t) => t.method), ['shrink-test', 'box-test']);
  const boxRow = r.table[1];
  assert.ok(boxRow.loss < r.table[0].loss);
  assert.equal(boxRow.params.radius, r.chosen.params.radius);
  // coordinate descent stopped at a local minimum: both neighbours tried and worse
  const byRadius = new Map(boxRow.settings.map((e) => [e.params.radius as number, e.loss]));
  const best = r.chosen.params.radius as number;
  for (const n of [best - 1, best + 1]) if (n >= 0 && n <= 6) assert.ok((byRadius.get(n) as number) > (byRadius.get(best) as number), `radius ${n} tried and worse`);
  assert.ok(boxRow.settings.length < 7, 'not every setting was needed');
  // the output is the plain denoiser at the chosen setting, on the whole image
  const direct = await box().denoise(noisy, r.chosen.params);
  assert.deepEqual(r.image.data, direct.data);
  assert.ok(mse(clean, r.image) < mse(clean, noisy) / 2, `${mse(clean, r.image)} vs noisy ${mse(clean, noisy)}`);
  assert.match(r.reason, /^lowest self-supervised loss \d\.\d+(e-\d+)? of 2 candidates \(calibrated on a 48x48 crop\)$/);
  assert.deepEqual(r.region, { x: 24, y: 24, width: 48, height: 48 });
});

test('a known sigma is used as given; progress ends at 1', async () => {
  const noisy = addGaussianNoise(testPattern(40, 40, 1), { sigma: 0.1, seed: 5 });
  const fractions: number[] = [];
  const r = await denoiseAuto(noisy, { candidates: [box()], sigma: 0.2, context: { onProgress: (f) => fractions.push(f) } });
  assert.equal(r.sigma, 0.2);
  assert.equal(r.sigmaSource, 'given');
  assert.equal(r.chosen.params.sigma, 0.2);
  assert.equal(fractions.at(-1), 1);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] >= fractions[i - 1]);
});

test('the time budget: the first candidate and the final run always, the rest only while time is left', async () => {
  const noisy = addGaussianNoise(testPattern(64, 64, 1), { sigma: 0.1, seed: 6 });
  const counter = { calls: 0 };
  const r = await denoiseAuto(noisy, { candidates: [box('first', counter), SHRINK, box('third')], budget: 1e-6 });
  assert.equal(r.chosen.method, 'first');
  assert.equal(r.table[0].settings.length, 1, 'probe only');
  assert.equal(counter.calls, 2, 'one probe and the final run');
  for (const row of r.table.slice(1)) {
    assert.equal(row.skipped, 'time budget spent');
    assert.ok(Number.isNaN(row.loss));
  }
  assert.match(r.reason, /of 1 candidate \(not tried for time: shrink-test, third\)$/);
});

/** box mean of radius 2 blended with its input by t: near twins of one another for small t */
function nearBox(id: string, t: number): DenoiserInfo {
  const inner = box(id);
  return {
    ...inner,
    calibrationGrid: () => ({ radius: [2] }),
    async denoise(image, options) {
      const out = await inner.denoise.call(inner, image, options);
      return { ...out, data: out.data.map((v, i) => (1 - t) * v + t * image.data[i]) };
    },
  };
}

test('methods within AUTO_TIE of the leader: re-scored on more masks when there is time, else the first in priority order wins', async () => {
  const noisy = addGaussianNoise(blocks(96), { sigma: 0.2, seed: 9 });
  const a = nearBox('near-a', 0);
  const b = nearBox('near-b', 0.01);
  // which twin the one-mask loss prefers, to list it second
  const probe = await denoiseAuto(noisy, { candidates: [a, b], budget: 60, cropSide: 48, finalMasks: 1 });
  const [la, lb] = probe.table.map((t) => t.loss);
  assert.ok(Math.abs(la - lb) < 0.03 * Math.min(la, lb), `losses ${la} ${lb} within the tie`);
  const [first, second] = la < lb ? [b, a] : [a, b];
  const noRescore = await denoiseAuto(noisy, { candidates: [first, second, SHRINK], budget: 60, cropSide: 48, finalMasks: 1 });
  assert.ok(noRescore.table[1].loss < noRescore.table[0].loss, 'the second has the lower one-mask loss');
  assert.equal(noRescore.chosen.method, first.id, 'and the first wins the tie');
  assert.ok(noRescore.table.every((t) => t.finalLoss === undefined));
  const r = await denoiseAuto(noisy, { candidates: [first, second, SHRINK], budget: 60, cropSide: 48 });
  assert.ok(r.table[0].finalLoss !== undefined && r.table[1].finalLoss !== undefined, 'both twins re-scored');
  assert.equal(r.table[2].finalLoss, undefined, 'a clearly worse method is not');
  const lower = r.table[0].finalLoss! < r.table[1].finalLoss! ? first.id : second.id;
  assert.equal(r.chosen.method, lower);
  assert.match(r.reason, /re-scored on 4 masks\)$/);
});

test('NaN no-data pixels stay where they are and do not spread', async () => {
  const noisy = addGaussianNoise(testPattern(48, 48, 1), { sigma: 0.1, seed: 7 });
  noisy.mask = new Uint8Array(noisy.data.length);
  for (const i of [0, 100, 1200, 2303]) {
    noisy.data[i] = NaN;
    noisy.mask[i] = 1;
  }
  const r = await denoiseAuto(noisy, { candidates: [box()] });
  for (let i = 0; i < r.image.data.length; i++) assert.equal(Number.isNaN(r.image.data[i]), noisy.mask[i] === 1, `sample ${i}`);
});

test('helpers: thinned axes keep both ends; calibration regions', () => {
  assert.deepEqual(thinValues([1, 2, 3], 7), [1, 2, 3]);
  assert.deepEqual(thinValues([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5), [0, 3, 5, 8, 10]);
  assert.deepEqual(calibrationRegion(256, 256), { x: 64, y: 64, width: 128, height: 128 });
  assert.deepEqual(calibrationRegion(512, 512), { x: 128, y: 128, width: 256, height: 256 });
  assert.deepEqual(calibrationRegion(6000, 4000), { x: 2250, y: 1500, width: 1500, height: 1000 });
  assert.deepEqual(calibrationRegion(100, 50), { x: 0, y: 0, width: 100, height: 50 });
  assert.deepEqual(calibrationRegion(300, 300, 64), { x: 118, y: 118, width: 64, height: 64 });
});

test('denoiseAuto rejects bad options with the house-style message', async () => {
  const im = testPattern(16, 16, 1);
  await assert.rejects(denoiseAuto(im, { candidates: [] }), { message: 'denoiseAuto: expected a non-empty array of denoiser ids for options.candidates but received an array of length 0.' });
  await assert.rejects(denoiseAuto(im, { candidates: ['no-such'] }), { code: 'ERR_INVALID_PARAMETER', message: /^denoiseAuto: expected one of .* for options\.candidates but received 'no-such' \(string\)/ });
  await assert.rejects(denoiseAuto(im, { candidates: [box(), box()] }), { message: "denoiseAuto: expected each method once for options.candidates but received 'box-test' (string)." });
  await assert.rejects(denoiseAuto(im, { candidates: [{ id: 'x' } as unknown as DenoiserInfo] }), { message: 'denoiseAuto: expected denoiser ids or DenoiserInfo objects for options.candidates but received an object (Object).' });
  await assert.rejects(denoiseAuto(im, { candidates: [box()], budget: 0 }), { message: 'denoiseAuto: expected a finite number above 0 for options.budget but received 0 (number).' });
  await assert.rejects(denoiseAuto(im, { candidates: [box()], sigma: Number.NaN }), { message: 'denoiseAuto: expected a finite number of at least 0 for options.sigma but received NaN (number).' });
  await assert.rejects(denoiseAuto(im, { candidates: [box()], finalMasks: 0 }), { message: /^denoiseAuto: expected an integer .*1.* for options\.finalMasks but received 0 \(number\)\.$/ });
});
