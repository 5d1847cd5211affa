import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { denoiseInvariant, interpolateImage, maskPixels, type ImageDenoiser } from '../../src/denoise/invariant.js';
import { randomImage } from '../helpers/images.js';

// ---- scikit-image 0.19.3 reference values (made once with Debian's python3; tests never run Python) ----
/** scikit-image 0.19.3 `_invariant_denoise` outputs on a 7x5 float32 image (made once with /usr/bin/python3; values to 9 digits). */
const X = [0, 0.608695626, 0.217391297, 0.826086938, 0.434782594, 0.0434782617, 0.652173936, 0.260869563, 0.869565189, 0.478260875, 0.0869565234, 0.695652187, 0.304347813, 0.913043499, 0.521739125, 0.130434781, 0.739130437, 0.347826093, 0.956521749, 0.565217376, 0.173913047, 0.782608688, 0.391304344, 0, 0.608695626, 0.217391297, 0.826086938, 0.434782594, 0.0434782617, 0.652173936, 0.260869563, 0.869565189, 0.478260875, 0.0869565234, 0.695652187];
/** denoiser: im * im (pointwise), any stride */
const SQ = [0.189035907, 0.239248559, 0.357396007, 0.0426512286, 0.319470674, 0.179702252, 0.228733465, 0.319470674, 0.136578456, 0.228733465, 0.344517946, 0.19860585, 0.307301491, 0.128662571, 0.10633269, 0.397447973, 0.0571833663, 0.357396007, 0.208412111, 0.319470674, 0.383861035, 0.113539703, 0.153119087, 0.25, 0.128662571, 0.514650285, 0.10633269, 0.397447973, 0.514650285, 0.073842153, 0.144730628, 0.239248589, 0.120982967, 0.499172986, 0.0680529252];
/** denoiser: [1,2,1]/4 along rows with edge padding, stride 3 */
const HM3 = [0.478260845, 0.298913032, 0.657608688, 0.266304344, 0.5, 0.483695626, 0.369565219, 0.641304314, 0.369565219, 0.478260875, 0.586956501, 0.320652157, 0.679347813, 0.345108688, 0.277173907, 0.630434752, 0.239130437, 0.722826064, 0.456521749, 0.565217376, 0.605978251, 0.350543499, 0.391304344, 0.5, 0.233695656, 0.717391312, 0.326086938, 0.679347813, 0.701086998, 0.211956516, 0.570652187, 0.429347843, 0.413043439, 0.646739125, 0.217391297];
/** denoiser: 0.5 im + mean(im), stride 2 and 3 (depends on which pixels are masked) */
const GM2 = [0.686645925, 0.713819861, 0.768167675, 0.572515488, 0.75186336, 0.681211174, 0.70838511, 0.75186336, 0.632608712, 0.70838511, 0.741304338, 0.692080736, 0.725000024, 0.648602486, 0.632298112, 0.784471989, 0.588819861, 0.768167675, 0.697515488, 0.75186336, 0.779037237, 0.637732923, 0.643478274, 0.719254613, 0.627173901, 0.827950299, 0.610869527, 0.784471989, 0.827950299, 0.605124235, 0.659472048, 0.713819861, 0.643167675, 0.822515488, 0.599689424];
const GM3 = [0.654968917, 0.721273303, 0.782763958, 0.54083848, 0.759316802, 0.695807457, 0.676708102, 0.747826099, 0.610869586, 0.729503095, 0.758695602, 0.648913026, 0.767546535, 0.644565225, 0.639441013, 0.777329206, 0.567391276, 0.775310516, 0.690372705, 0.730434775, 0.786180139, 0.606055915, 0.672360241, 0.733850956, 0.616925478, 0.83540374, 0.646894395, 0.752794981, 0.823913038, 0.561956525, 0.680590034, 0.7097826, 0.600000024, 0.843633533, 0.595652163];
/** colour: channels (x, 1 - x, x / 2), denoiser im * im, stride 3 */
const SQC3 = [0.189035907, 0.319470674, 0.0472589768, 0.239248559, 0.260987699, 0.0598121397, 0.357396007, 0.161743879, 0.0893490016, 0.0426512286, 0.629607737, 0.0106628072, 0.319470674, 0.189035937, 0.0798676684, 0.179702252, 0.331876159, 0.044925563, 0.228733465, 0.272211701, 0.0571833663, 0.319470674, 0.189035937, 0.0798676684, 0.136578456, 0.397448063, 0.0341446139, 0.228733465, 0.272211701, 0.0571833663, 0.344517946, 0.170604914, 0.0861294866, 0.19860585, 0.307301491, 0.0496514626, 0.307301491, 0.198605865, 0.0768253729, 0.128662571, 0.411271304, 0.0321656428, 0.10633269, 0.454158813, 0.0265831724, 0.397447973, 0.136578456, 0.0993619934, 0.0571833663, 0.57892251, 0.0142958416, 0.357396007, 0.161743879, 0.0893490016, 0.208412111, 0.295368612, 0.0521030277, 0.319470674, 0.189035937, 0.0798676684, 0.383861035, 0.144730628, 0.0959652588, 0.113539703, 0.439626694, 0.0283849258, 0.153119087, 0.37051037, 0.0382797718, 0.25, 0.25, 0.0625, 0.128662571, 0.411271304, 0.0321656428, 0.514650285, 0.0798676684, 0.128662571, 0.10633269, 0.454158813, 0.0265831724, 0.397447973, 0.136578456, 0.0993619934, 0.514650285, 0.0798676684, 0.128662571, 0.073842153, 0.530363917, 0.0184605382, 0.144730628, 0.383861095, 0.0361826569, 0.239248589, 0.260987699, 0.0598121472, 0.120982967, 0.425330848, 0.0302457418, 0.499172986, 0.0861294866, 0.124793246, 0.0680529252, 0.546313822, 0.0170132313];
/** _calibrate_denoiser_search losses (approximate) for (1 - w) im + w hmean(im), w = 0, 0.5, 1, strides 3 and 4 */
// ---- end of reference values ----

const W = 7;
const H = 5;
const grey = (): Image => createImage(W, H, 1, Float32Array.from(X));
const sq: ImageDenoiser = (im) => ({ ...im, data: im.data.map((v) => Math.fround(v * v)) });
/** [1,2,1]/4 along rows, edge padding, as numpy.pad(mode='edge') */
const hmean: ImageDenoiser = (im) => {
  const out = new Float32Array(im.data.length);
  for (let y = 0; y < im.height; y++) {
    for (let x = 0; x < im.width; x++) {
      const r = y * im.width;
      out[r + x] = (im.data[r + Math.max(0, x - 1)] + 2 * im.data[r + x] + im.data[r + Math.min(im.width - 1, x + 1)]) / 4;
    }
  }
  return { ...im, data: out };
};
const gm: ImageDenoiser = (im) => {
  let s = 0;
  for (const v of im.data) s += v;
  const m = s / im.data.length;
  return { ...im, data: im.data.map((v) => 0.5 * v + m) };
};

function closeTo(actual: Float32Array, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

test('denoiseInvariant matches scikit-image 0.19 denoise_invariant (masks, mirror borders, channels)', async () => {
  for (const stride of [2, 3, 4]) {
    // pointwise: exact to the last bit (float32 products are exact in float64)
    const r = await denoiseInvariant(grey(), sq, { stride });
    assert.deepEqual(Array.from(r.data), SQ.map(Math.fround), `sq stride ${stride}`);
  }
  closeTo((await denoiseInvariant(grey(), hmean, { stride: 3 })).data, HM3, 1e-7, 'hmean stride 3');
  // a denoiser that sees the whole image tells the masks apart
  closeTo((await denoiseInvariant(grey(), gm, { stride: 2 })).data, GM2, 2e-7, 'gm stride 2');
  closeTo((await denoiseInvariant(grey(), gm, { stride: 3 })).data, GM3, 2e-7, 'gm stride 3');
  const colour = createImage(W, H, 3);
  for (let p = 0; p < W * H; p++) {
    colour.data[3 * p] = X[p];
    colour.data[3 * p + 1] = Math.fround(1 - Math.fround(X[p]));
    colour.data[3 * p + 2] = Math.fround(X[p] * 0.5);
  }
  const c = await denoiseInvariant(colour, sq, { stride: 3 });
  assert.deepEqual(Array.from(c.data), SQC3.map(Math.fround), 'colour');
});

test('J-invariance: changing the pixels of one mask leaves the output on that mask unchanged', async () => {
  const im = randomImage(23, 17, 1, 11);
  // a non-local denoiser: a 5x5 box mean plus a share of the global mean
  const box: ImageDenoiser = (x) => {
    const out = new Float32Array(x.data.length);
    let total = 0;
    for (const v of x.data) total += v;
    for (let y = 0; y < x.height; y++) {
      for (let xx = 0; xx < x.width; xx++) {
        let s = 0;
        let n = 0;
        for (let dy = -2; dy <= 2; dy++) {
          for (let dx = -2; dx <= 2; dx++) {
            const yy = y + dy;
            const xc = xx + dx;
            if (yy < 0 || yy >= x.height || xc < 0 || xc >= x.width) continue;
            s += x.data[yy * x.width + xc];
            n++;
          }
        }
        out[y * x.width + xx] = 0.8 * (s / n) + 0.2 * (total / x.data.length);
      }
    }
    return { ...x, data: out };
  };
  for (const interpolation of ['four-neighbour', 'donut', 'renoised'] as const) {
    const stride = 3;
    const before = await denoiseInvariant(im, box, { stride, interpolation, sigma: 0.1 });
    for (const offset of [0, 4, 8]) {
      const pixels = maskPixels(im.width, im.height, stride, offset);
      const changed = { ...im, data: im.data.slice() };
      for (const p of pixels) changed.data[p] += 5 * Math.sin(p);
      // (renoised: the same seed and sigma, so the fresh noise is the same)
      const after = await denoiseInvariant(changed, box, { stride, interpolation, sigma: 0.1 });
      let same = 0;
      let otherDiff = 0;
      for (let p = 0; p < im.data.length; p++) {
        if (pixels.includes(p)) {
          assert.equal(after.data[p], before.data[p], `${interpolation} mask ${offset} pixel ${p}`);
          same++;
        } else otherDiff = Math.max(otherDiff, Math.abs(after.data[p] - before.data[p]));
      }
      assert.ok(same > 0);
      // and the change does reach the other pixels (the test can fail)
      assert.ok(otherDiff > 1e-3, `${interpolation} mask ${offset}: perturbation invisible elsewhere (${otherDiff})`);
    }
    // the plain denoiser is not J-invariant: it does see the change
    const p0 = maskPixels(im.width, im.height, stride, 4)[0];
    const changed = { ...im, data: im.data.slice() };
    changed.data[p0] += 5;
    assert.notEqual((await box(changed)).data[p0], (await box(im)).data[p0]);
  }
});

test('interpolateImage: four-neighbour and donut means with mirror borders, missing neighbours left out', () => {
  const im = createImage(3, 3, 1, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]));
  // centre: (2 + 4 + 6 + 8) / 4; corner (0,0): mirror gives neighbours 2, 4, 2, 4
  const four = interpolateImage(im, 'four-neighbour');
  assert.equal(four[4], 5);
  assert.equal(four[0], 3);
  // donut at the centre: (0.5 (1 + 3 + 7 + 9) + 2 + 4 + 6 + 8) / 6 = 5; at (0,0): mirror -> (0.5 (5*4) + 2*2 + 4*2) / 6
  const donut = interpolateImage(im, 'donut');
  assert.equal(donut[4], 5);
  assert.equal(donut[0], Math.fround((0.5 * 20 + 12) / 6));
  // a NaN neighbour and a masked one drop out of the mean
  const holes = createImage(3, 3, 1, Float32Array.from([1, NaN, 3, 4, 5, 6, 7, 8, 9]), { mask: Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 0, 0]) });
  holes.mask![5] = 1;
  const h = interpolateImage(holes, 'four-neighbour');
  assert.equal(h[4], (4 + 8) / 2);
  assert.ok(Number.isFinite(h[0]) && Number.isFinite(h[2]));
});

test('renoised fill: the four-neighbour mean plus fresh noise of variance sigma^2 / 4, seeded', async () => {
  const flat = createImage(64, 64, 1, new Float32Array(64 * 64).fill(0.5));
  const seen: Image[] = [];
  const identity: ImageDenoiser = (x) => {
    seen.push(x);
    return x;
  };
  const a = await denoiseInvariant(flat, identity, { stride: 2, interpolation: 'renoised', sigma: 0.2, seed: 3 });
  // on a flat image the mean is exact, so what is left is the fresh noise
  let s = 0;
  let s2 = 0;
  for (const v of a.data) {
    s += v - 0.5;
    s2 += (v - 0.5) ** 2;
  }
  const n = a.data.length;
  const sd = Math.sqrt(s2 / n - (s / n) ** 2);
  assert.ok(Math.abs(sd - 0.5 * 0.2) < 0.005, `fresh noise sd ${sd}`);
  const b = await denoiseInvariant(flat, identity, { stride: 2, interpolation: 'renoised', sigma: 0.2, seed: 3 });
  assert.deepEqual(b.data, a.data, 'same seed, same fill');
  const c = await denoiseInvariant(flat, identity, { stride: 2, interpolation: 'renoised', sigma: 0.2, seed: 4 });
  assert.notDeepEqual(c.data, a.data);
  // each call changes only its own mask
  for (const x of seen.slice(0, 4)) assert.equal(x.data.filter((v) => v !== 0.5).length, 32 * 32);
  await assert.rejects(denoiseInvariant(flat, identity, { interpolation: 'renoised', sigma: -1 }), {
    message: 'denoiseInvariant: expected a finite number of at least 0 for options.sigma but received -1 (number).',
  });
});

test('no-data pixels are not filled, alpha is kept, NaN does not spread', async () => {
  const im = randomImage(9, 8, 2, 3);
  im.data[2 * (4 * 9 + 4)] = NaN;
  im.mask = new Uint8Array(im.data.length);
  im.mask[2 * (4 * 9 + 4)] = 1;
  const seen: Image[] = [];
  const r = await denoiseInvariant(im, (x) => {
    seen.push(x);
    return { ...x, data: x.data.map((v, i) => (i % 2 === 1 ? 0 : Number.isFinite(v) ? v : 0.5)) };
  }, { stride: 2 });
  assert.equal(seen.length, 4);
  for (const s of seen) assert.ok(Number.isNaN(s.data[2 * (4 * 9 + 4)]), 'no-data sample handed over as it was');
  for (let i = 1; i < r.data.length; i += 2) assert.equal(r.data[i], im.data[i], 'alpha kept');
  for (let i = 0; i < r.data.length; i += 2) if (i !== 2 * (4 * 9 + 4)) assert.ok(Number.isFinite(r.data[i]));
  assert.equal(r.mask, im.mask);
});

test('denoiseInvariant rejects bad options with the house-style message', async () => {
  const im = grey();
  await assert.rejects(denoiseInvariant(im, sq, { stride: 1 }), {
    message: 'denoiseInvariant: expected an integer from 2 to 64 for options.stride but received 1 (number).',
  });
  await assert.rejects(denoiseInvariant(im, sq, { stride: 2.5 }), { code: 'ERR_INVALID_PARAMETER' });
  await assert.rejects(denoiseInvariant(im, sq, { interpolation: 'donught' as 'donut' }), {
    message: "denoiseInvariant: expected one of 'four-neighbour', 'donut', 'renoised' for options.interpolation but received 'donught' (string). Did you mean 'donut'?",
  });
  await assert.rejects(denoiseInvariant(im, 3 as unknown as ImageDenoiser), {
    message: 'denoiseInvariant: expected a function (image) => Image for denoiser but received 3 (number).',
  });
  await assert.rejects(denoiseInvariant(im, (x) => ({ ...x, data: new Float32Array(3) })), {
    message: /denoiseInvariant: expected a function returning an image of 7x5x1 for denoiser/,
  });
});
