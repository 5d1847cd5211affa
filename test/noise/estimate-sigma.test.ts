import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { estimateSigma } from '../../src/noise/estimate-sigma.js';
import { addGaussianNoise } from '../../src/noise/gaussian.js';

/**
 * Deterministic test planes: value(x, y, c) = ((7x + 13y + 3xy + 5c) mod 17) / 16 + 0.01 x,
 * stored as float32 like every hush image.
 */
function formula(width: number, height: number, c = 0, zeroLeftColumns = 0): Float32Array {
  const d = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) d[y * width + x] = x < zeroLeftColumns ? 0 : ((7 * x + 13 * y + 3 * x * y + 5 * c) % 17) / 16 + 0.01 * x;
  }
  return d;
}

function lcg(width: number, height: number): Float32Array {
  const d = new Float32Array(width * height);
  let s = 12345;
  for (let i = 0; i < d.length; i++) {
    // the low 31 bits of 1103515245 s + 12345, exactly (the product overflows a double)
    s = (Math.imul(1103515245, s) + 12345) & 0x7fffffff;
    d[i] = s / 2 ** 31;
  }
  return d;
}

/*
 * Reference values from scikit-image 0.19.3 / PyWavelets 1.1.1 / numpy 1.24.2 (Debian bookworm):
 *   a = <the plane above>.astype(np.float32).astype(np.float64)
 *   skimage.restoration.estimate_sigma(a)                      # grey
 *   skimage.restoration.estimate_sigma(rgb, channel_axis=-1)   # colour
 * The half-flat and thin cases depend on the rounding of near-cancelling sums, so they
 * only match because the DWT keeps pywt's order of summation.
 */
const REFERENCE = {
  grey17x23: 0.2232887989883851,
  rgb9x11: [0.23294479548085953, 0.24260076979101372, 0.3674355153751487],
  halfFlat12x20: 0.05276135926807372,
  halfZero12x20: 0.30501815144751926,
  tiny2x3: 0.44385992411935954,
  row1x7: 2.392698479068836e-17,
  col6x1: 5.143809747953927e-17,
  lcg40x33: 0.3003697214115912,
};

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.abs(expected), `${what}: ${actual}, scikit-image ${expected}`);
}

test('matches scikit-image estimate_sigma on deterministic inputs', () => {
  close(estimateSigma(createImage(23, 17, 1, formula(23, 17)))[0], REFERENCE.grey17x23, 'grey 17x23');
  const rgb = new Float32Array(9 * 11 * 3);
  for (let c = 0; c < 3; c++) formula(11, 9, c).forEach((v, i) => (rgb[i * 3 + c] = v));
  const sig = estimateSigma(createImage(11, 9, 3, rgb));
  assert.equal(sig.length, 3);
  sig.forEach((s, c) => close(s, REFERENCE.rgb9x11[c], `rgb channel ${c}`));
  const halfFlat = formula(20, 12);
  for (let y = 0; y < 12; y++) halfFlat.fill(0.5, y * 20, y * 20 + 10);
  close(estimateSigma(createImage(20, 12, 1, halfFlat))[0], REFERENCE.halfFlat12x20, 'half flat');
  close(estimateSigma(createImage(20, 12, 1, formula(20, 12, 0, 10)))[0], REFERENCE.halfZero12x20, 'half zero (zero coefficients dropped)');
  close(estimateSigma(createImage(3, 2, 1, formula(3, 2)))[0], REFERENCE.tiny2x3, '2x3');
  close(estimateSigma(createImage(7, 1, 1, formula(7, 1)))[0], REFERENCE.row1x7, '1x7');
  close(estimateSigma(createImage(1, 6, 1, formula(1, 6)))[0], REFERENCE.col6x1, '6x1');
  close(estimateSigma(createImage(33, 40, 1, lcg(33, 40)))[0], REFERENCE.lcg40x33, 'lcg 40x33');
});

test('recovers sigma 0.1 within 2% on a flat image and on a smooth gradient', () => {
  const flat = createImage(512, 512, 1, new Float32Array(512 * 512).fill(0.5));
  const s1 = estimateSigma(addGaussianNoise(flat, { sigma: 0.1, seed: 1 }))[0];
  assert.ok(Math.abs(s1 / 0.1 - 1) < 0.02, `flat: ${s1}`);
  const g = new Float32Array(512 * 512);
  for (let y = 0; y < 512; y++) for (let x = 0; x < 512; x++) g[y * 512 + x] = 0.2 + (0.6 * x) / 511 + (0.1 * y) / 511 + 0.05 * Math.sin(x / 60) * Math.cos(y / 80);
  const s2 = estimateSigma(addGaussianNoise(createImage(512, 512, 1, g), { sigma: 0.1, seed: 2 }))[0];
  assert.ok(Math.abs(s2 / 0.1 - 1) < 0.02, `gradient: ${s2}`);
  const s3 = estimateSigma(addGaussianNoise(createImage(512, 512, 1, g), { sigma: 0.01, seed: 3 }))[0];
  assert.ok(Math.abs(s3 / 0.01 - 1) < 0.02, `gradient, sigma 0.01: ${s3}`);
});

test('one value per colour channel, alpha excluded; a constant channel gives about 0, an all-zero one exactly 0', () => {
  const w = 256;
  const d = new Float32Array(w * w * 4);
  const z = createRng(4).fillNormal(new Float32Array(w * w * 4));
  for (let p = 0; p < w * w; p++) {
    d[p * 4] = 0.5 + 0.05 * z[p * 4];
    d[p * 4 + 1] = 0.5 + 0.2 * z[p * 4 + 1];
    d[p * 4 + 2] = 0.3;
    d[p * 4 + 3] = p % 2;
  }
  const s = estimateSigma(createImage(w, w, 4, d));
  assert.equal(s.length, 3);
  assert.ok(Math.abs(s[0] / 0.05 - 1) < 0.03, `red ${s[0]}`);
  assert.ok(Math.abs(s[1] / 0.2 - 1) < 0.03, `green ${s[1]}`);
  // a constant leaves rounding residue in the coefficients (as in pywt); only zeros give exactly 0
  assert.ok(s[2] < 1e-15, `constant channel ${s[2]}`);
  assert.deepEqual(estimateSigma(createImage(16, 16, 1)), [0]);
  assert.equal(estimateSigma(createImage(w, w, 2, d.subarray(0, w * w * 2).slice())).length, 1);
});

test('masked and non-finite samples are left out', () => {
  const w = 256;
  const noisy = addGaussianNoise(createImage(w, w, 1, new Float32Array(w * w).fill(0.5)), { sigma: 0.1, seed: 5 });
  const clean = estimateSigma(noisy)[0];
  const holed: Image = { ...noisy, data: noisy.data.slice(), mask: new Uint8Array(w * w) };
  for (let y = 50; y < 120; y++) {
    for (let x = 30; x < 200; x++) {
      holed.data[y * w + x] = y % 2 ? Number.NaN : 1e6;
      holed.mask![y * w + x] = 1;
    }
  }
  const s = estimateSigma(holed)[0];
  assert.ok(Number.isFinite(s));
  assert.ok(Math.abs(s / clean - 1) < 0.03, `masked ${s} vs unmasked ${clean}`);
  const unmaskedNan = { ...holed, mask: undefined };
  for (let i = 0; i < w * w; i++) if (unmaskedNan.data[i] === 1e6) unmaskedNan.data[i] = Number.NaN;
  assert.equal(estimateSigma(unmaskedNan)[0], s);
});

test('rejects a malformed image with the house-style message', () => {
  assert.throws(() => estimateSigma(null as unknown as Image), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'estimateSigma: expected an Image object for image but received null.',
  });
  assert.throws(() => estimateSigma({ data: new Float32Array(5), width: 2, height: 2, channels: 1 }), {
    message: 'estimateSigma: expected length 4 (width x height x channels) for image.data but received a Float32Array.',
  });
});
