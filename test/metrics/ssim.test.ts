import test from 'node:test';
import assert from 'node:assert/strict';
import { ssim, SSIM_CONFIGS, type SsimConfig } from '../../src/metrics/index.js';
import { createImage, extractChannel, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';

// ---------------------------------------------------------------------------
// A naive, direct O(N * win^2) float64 SSIM, written from the scikit-image 0.19
// description (2-D weights, numpy 'symmetric' padding, five local moments, crop,
// mean) and sharing no code with src/metrics/ssim.ts.

function symmetricIndex(i: number, n: number): number {
  // numpy.pad(mode='symmetric') applied repeatedly: mirror at -0.5 and n-0.5
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

function weights1d(config: SsimConfig, winSize: number): number[] {
  if (config === 'skimage') return Array.from({ length: winSize }, () => 1 / winSize);
  const g = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
  const s = g.reduce((x, y) => x + y, 0);
  return g.map((x) => x / s);
}

function naiveSsim(
  a: Float32Array,
  b: Float32Array,
  w: number,
  h: number,
  o: { dataRange: number; config: SsimConfig; winSize?: number; mask?: Uint8Array },
): number {
  const win = o.winSize ?? (o.config === 'wang' ? 11 : 7);
  const g = weights1d(o.config, win);
  const r = (g.length - 1) / 2;
  const np = win * win;
  const cov = o.config === 'skimage' ? np / (np - 1) : 1;
  const c1 = (0.01 * o.dataRange) ** 2;
  const c2 = (0.03 * o.dataRange) ** 2;
  const pad = (win - 1) / 2;
  let sum = 0;
  let count = 0;
  for (let y = pad; y < h - pad; y++) {
    for (let x = pad; x < w - pad; x++) {
      let ux = 0;
      let uy = 0;
      let uxx = 0;
      let uyy = 0;
      let uxy = 0;
      let touchesMask = false;
      for (let i = -r; i <= r; i++) {
        for (let j = -r; j <= r; j++) {
          const k = symmetricIndex(y + i, h) * w + symmetricIndex(x + j, w);
          if (o.mask?.[k]) touchesMask = true;
          const wt = g[i + r] * g[j + r];
          ux += wt * a[k];
          uy += wt * b[k];
          uxx += wt * a[k] * a[k];
          uyy += wt * b[k] * b[k];
          uxy += wt * a[k] * b[k];
        }
      }
      if (touchesMask) continue;
      const vx = cov * (uxx - ux * ux);
      const vy = cov * (uyy - uy * uy);
      const vxy = cov * (uxy - ux * uy);
      sum += ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      count++;
    }
  }
  return sum / count;
}

function randomPair(seed: number, w: number, h: number, c: Channels = 1, scale = 1): [Image, Image] {
  const rng = createRng(seed);
  const n = w * h * c;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // smooth structure plus noise, so SSIM is far from 0 and from 1
    const x = Math.floor(i / c) % w;
    const y = Math.floor(i / c / w);
    a[i] = scale * (0.5 + 0.3 * Math.sin(x / 3 + (i % c)) * Math.cos(y / 4) + 0.1 * rng.next());
    b[i] = a[i] + scale * 0.15 * rng.normal();
  }
  return [createImage(w, h, c, a), createImage(w, h, c, b)];
}

function close(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Number.isFinite(actual), `${what}: ${actual}`);
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs ${expected} (rel ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

// ---------------------------------------------------------------------------

test('ssim of identical images is exactly 1', () => {
  const [a] = randomPair(1, 23, 19);
  for (const config of SSIM_CONFIGS) assert.equal(ssim(a, a, { dataRange: 1, config }), 1);
  const [c] = randomPair(2, 12, 12, 3);
  assert.equal(ssim(c, c, { dataRange: 1 }), 1);
});

test('ssim of two constant images is the luminance term, by hand', () => {
  // Variances and covariance vanish, so SSIM = (2 ua ub + C1) / (ua^2 + ub^2 + C1) at every position.
  const a = createImage(16, 13, 1, new Float32Array(16 * 13).fill(0.5));
  const b = createImage(16, 13, 1, new Float32Array(16 * 13).fill(0.625));
  const c1 = 0.01 ** 2;
  const expected = (2 * 0.5 * 0.625 + c1) / (0.5 ** 2 + 0.625 ** 2 + c1);
  for (const config of SSIM_CONFIGS) close(ssim(a, b, { dataRange: 1, config }), expected, 1e-12, config);
  // dataRange 255 on 0..255 data: the same number
  const a255 = createImage(16, 13, 1, new Float32Array(16 * 13).fill(128));
  const b255 = createImage(16, 13, 1, new Float32Array(16 * 13).fill(160));
  close(ssim(a255, b255, { dataRange: 255 }), (2 * 128 * 160 + 2.55 ** 2) / (128 ** 2 + 160 ** 2 + 2.55 ** 2), 1e-12, '255');
});

test('ssim matches a naive direct implementation with symmetric padding', () => {
  const cases: [number, number, SsimConfig, number | undefined, number][] = [
    [13, 17, 'skimage', undefined, 1],
    [13, 17, 'wang', undefined, 1],
    [9, 7, 'skimage', undefined, 1],
    [9, 7, 'wang', 7, 1],
    [7, 7, 'skimage', 7, 1],
    [5, 3, 'skimage', 3, 1],
    [4, 3, 'wang', 3, 1], // Gaussian radius 5 on 3- and 4-pixel sides: repeated reflection
    [3, 3, 'skimage', 3, 1],
    [20, 11, 'skimage', 5, 1],
    [20, 11, 'wang', 9, 1],
    [15, 15, 'wang', 13, 1], // crop wider than the Gaussian
    [30, 12, 'skimage', 11, 1],
    [45, 41, 'wang', undefined, 255], // taller and wider than the ring and the re-summing period
    [45, 41, 'skimage', undefined, 255],
    [71, 40, 'skimage', 3, 255],
  ];
  cases.forEach(([w, h, config, winSize, scale], i) => {
    const [a, b] = randomPair(100 + i, w, h, 1, scale);
    const expected = naiveSsim(a.data, b.data, w, h, { dataRange: scale, config, winSize });
    close(ssim(a, b, { dataRange: scale, config, winSize }), expected, 1e-11, `${w}x${h} ${config} winSize ${winSize}`);
  });
});

test('ssim of a colour image is the mean over colour channels; alpha is ignored', () => {
  const [a, b] = randomPair(7, 17, 14, 3);
  for (const config of SSIM_CONFIGS) {
    let mean = 0;
    for (let c = 0; c < 3; c++) {
      mean += naiveSsim(extractChannel(a, c), extractChannel(b, c), 17, 14, { dataRange: 1, config }) / 3;
    }
    close(ssim(a, b, { dataRange: 1, config }), mean, 1e-11, config);
    // the same colour with different alpha planes
    const rgba = (im: Image, alpha: number): Image => {
      const d = new Float32Array(17 * 14 * 4);
      for (let i = 0; i < 17 * 14; i++) {
        d.set(im.data.subarray(3 * i, 3 * i + 3), 4 * i);
        d[4 * i + 3] = alpha * ((i * 7) % 5);
      }
      return createImage(17, 14, 4, d);
    };
    assert.equal(ssim(rgba(a, 0), rgba(b, 1), { dataRange: 1, config }), ssim(a, b, { dataRange: 1, config }));
  }
  // grey + alpha: the grey plane alone
  const [g, h] = randomPair(8, 15, 12, 2);
  const grey = (im: Image) => createImage(15, 12, 1, extractChannel(im, 0));
  assert.equal(ssim(g, h, { dataRange: 1 }), ssim(grey(g), grey(h), { dataRange: 1 }));
});

test('ssim leaves out windows that touch a masked sample', () => {
  const [a, b] = randomPair(9, 30, 26);
  const mask = new Uint8Array(30 * 26);
  mask[12 * 30 + 15] = 1; // interior
  mask[0 * 30 + 29] = 1; // corner: its reflections reach the crop
  a.data[12 * 30 + 15] = NaN; // no data there: must not leak into the result
  const masked = { ...a, mask };
  for (const config of SSIM_CONFIGS) {
    const expected = naiveSsim(a.data.map((v) => (Number.isNaN(v) ? 0 : v)), b.data, 30, 26, { dataRange: 1, config, mask });
    close(ssim(masked, b, { dataRange: 1, config }), expected, 1e-11, config);
    close(ssim(b, masked, { dataRange: 1, config }), naiveSsim(b.data, a.data.map((v) => (Number.isNaN(v) ? 0 : v)), 30, 26, { dataRange: 1, config, mask }), 1e-11, `${config} swapped`);
  }
  const all = { ...a, mask: new Uint8Array(30 * 26).fill(1) };
  assert.throws(() => ssim(all, b, { dataRange: 1 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'ssim: every window of channel 0 touches a masked sample; there is nothing to compare.',
  });
});

test('ssim rejects bad options and shapes with exact messages', () => {
  const [a, b] = randomPair(3, 9, 7);
  const hint = 'Pass the range of possible values explicitly: 1 for images in [0,1], 255 for 0..255.';
  const cases: [unknown, string][] = [
    [{}, `ssim: expected a finite number above 0 for options.dataRange but received undefined. ${hint}`],
    [{ dataRange: -1 }, 'ssim: expected a finite number above 0 for options.dataRange but received -1 (number).'],
    [{ dataRange: 1, config: 'Wang' }, "ssim: expected one of 'wang', 'skimage' for options.config but received 'Wang' (string). Did you mean 'wang'?"],
    [{ dataRange: 1, config: 'skimage', winSize: 4 }, 'ssim: expected an odd integer of at least 3 for options.winSize but received 4 (number).'],
    [{ dataRange: 1, config: 'skimage', winSize: 1 }, 'ssim: expected an odd integer of at least 3 for options.winSize but received 1 (number).'],
    [{ dataRange: 1, win_size: 7 }, "ssim: expected only the options 'dataRange', 'config', 'winSize' for options but received 'win_size' (string)."],
    [{ dataRange: 1 }, "ssim: the default 11x11 window of config 'wang' exceeds the image extent 9x7 (width x height). Pass options.winSize, an odd integer from 3 to 7 (scikit-image raises here too)."],
    [{ dataRange: 1, config: 'skimage', winSize: 9 }, 'ssim: options.winSize 9 exceeds the image extent 9x7 (width x height). Pass options.winSize, an odd integer from 3 to 7 (scikit-image raises here too).'],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => ssim(a, b, options as never), { code: 'ERR_INVALID_PARAMETER', message }, JSON.stringify(options));
  }
  const [c, d] = randomPair(4, 8, 6);
  assert.throws(() => ssim(c, d, { dataRange: 1 }), {
    message: "ssim: the default 11x11 window of config 'wang' exceeds the image extent 8x6 (width x height). Pass options.winSize, an odd integer from 3 to 5 (scikit-image raises here too).",
  });
  const [e, f] = randomPair(5, 2, 5);
  assert.throws(() => ssim(e, f, { dataRange: 1, config: 'skimage' }), {
    message: "ssim: the default 7x7 window of config 'skimage' exceeds the image extent 2x5 (width x height). SSIM needs images of at least 3x3 pixels.",
  });
  assert.throws(() => ssim(a, randomPair(6, 7, 9)[0], { dataRange: 1 }), {
    message: 'ssim: expected an image the shape of reference, 9x7x1 (width x height x channels) for test but received 7x9x1.',
  });
});
