import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, withData, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { jInvariantDenoise, jInvariantFromMetadata } from '../../src/runtime/j-invariant.js';
import type { HushModelMetadata } from '../../src/models/hush-model.js';

function randomImage(w: number, h: number, c: 1 | 2 | 3 | 4, seed: number): Image {
  const rng = createRng(seed);
  return createImage(w, h, c, Float32Array.from({ length: w * h * c }, () => rng.next()));
}

/** a 3x3 box blur with clamped borders, alpha (2/4 channels) passed through */
async function boxBlur(im: Image): Promise<Image> {
  const { width: w, height: h, channels: c } = im;
  const colour = c === 2 || c === 4 ? c - 1 : c;
  const out = im.data.slice();
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < colour; k++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = Math.min(h - 1, Math.max(0, y + dy));
            const xx = Math.min(w - 1, Math.max(0, x + dx));
            s += im.data[(yy * w + xx) * c + k];
          }
        out[(y * w + x) * c + k] = s / 9;
      }
  return withData(im, out);
}

test('J-invariant: the output at a pixel does not depend on that pixel (any stride, grey and RGB)', async () => {
  for (const [stride, c] of [[4, 1], [3, 3], [2, 1]] as const) {
    const im = randomImage(13, 11, c, 7);
    const base = await jInvariantDenoise(im, boxBlur, { stride });
    for (const [y, x] of [[0, 0], [5, 6], [10, 12], [4, 3]]) {
      const changed = im.data.slice();
      for (let k = 0; k < c; k++) changed[(y * 13 + x) * c + k] += 5;
      const res = await jInvariantDenoise(withData(im, changed), boxBlur, { stride });
      for (let k = 0; k < c; k++) assert.equal(res.data[(y * 13 + x) * c + k], base.data[(y * 13 + x) * c + k], `stride ${stride}, pixel ${y},${x}`);
      // while the single pass does depend on it
      const single = await boxBlur(withData(im, changed));
      assert.notEqual(single.data[(y * 13 + x) * c], (await boxBlur(im)).data[(y * 13 + x) * c]);
    }
  }
});

test("J-invariant: an identity network returns the Noise2Self neighbour mean ('interpolate') or zeros", async () => {
  const im = randomImage(9, 8, 1, 3);
  const identity = async (m: Image) => m;
  const interp = await jInvariantDenoise(im, identity, { stride: 4 });
  const k = [0.5, 1, 0.5, 1, 0, 1, 0.5, 1, 0.5];
  for (let y = 1; y < 7; y++)
    for (let x = 1; x < 8; x++) {
      let v = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) v += (k[(dy + 1) * 3 + dx + 1] / 6) * im.data[(y + dy) * 9 + x + dx];
      assert.ok(Math.abs(interp.data[y * 9 + x] - v) < 1e-6, `${y},${x}`);
    }
  const zero = await jInvariantDenoise(im, identity, { stride: 3, replacement: 'zero' });
  assert.ok(zero.data.every((v) => v === 0));
});

test("J-invariant with 'neighbour' (Noise2Void's blind spots): each pixel comes from a pass that gave it a random other pixel of its 5x5 window; repeatable; missing samples never used", async () => {
  const im = randomImage(11, 9, 1, 4);
  const identity = async (m: Image) => m;
  const a = await jInvariantDenoise(im, identity, { stride: 4, replacement: 'neighbour' });
  const b = await jInvariantDenoise(im, identity, { stride: 4, replacement: 'neighbour' });
  assert.deepEqual(a.data, b.data);
  let differs = 0;
  for (let y = 0; y < 9; y++)
    for (let x = 0; x < 11; x++) {
      const window: number[] = [];
      for (let dy = -2; dy <= 2; dy++)
        for (let dx = -2; dx <= 2; dx++) if ((dy || dx) && y + dy >= 0 && y + dy < 9 && x + dx >= 0 && x + dx < 11) window.push(im.data[(y + dy) * 11 + x + dx]);
      assert.ok(window.includes(a.data[y * 11 + x]), `${y},${x}: ${a.data[y * 11 + x]} is not a neighbour's value`);
      if (a.data[y * 11 + x] !== im.data[y * 11 + x]) differs++;
    }
  assert.equal(differs, 99);
  // the output at a pixel does not depend on the pixel
  const changed = im.data.slice();
  changed[4 * 11 + 5] += 5;
  const c = await jInvariantDenoise(withData(im, changed), boxBlur, { stride: 3, replacement: 'neighbour' });
  assert.equal(c.data[4 * 11 + 5], (await jInvariantDenoise(im, boxBlur, { stride: 3, replacement: 'neighbour' })).data[4 * 11 + 5]);
  // with a missing sample: it is never copied into a masked pixel
  const holed = im.data.slice();
  holed[2 * 11 + 2] = NaN;
  const h = await jInvariantDenoise(withData(im, holed), identity, { stride: 3, replacement: 'neighbour' });
  assert.ok(Number.isNaN(h.data[2 * 11 + 2]));
  assert.equal(h.data.filter((v) => Number.isNaN(v)).length, 1);
  // at strides 1-2 a masked pixel could copy another masked pixel's own value
  await assert.rejects(jInvariantDenoise(im, identity, { stride: 2, replacement: 'neighbour' }), /at least 3 with replacement 'neighbour'.*for options\.stride/);
});

test('J-invariant: alpha is carried through; progress per pass; tiny images; bad options refused', async () => {
  const im = randomImage(6, 5, 4, 11);
  const seen: number[] = [];
  const res = await jInvariantDenoise(im, boxBlur, { stride: 2, onProgress: (f) => seen.push(f) });
  assert.deepEqual(seen, [0.25, 0.5, 0.75, 1]);
  for (let p = 0; p < 30; p++) assert.equal(res.data[p * 4 + 3], im.data[p * 4 + 3]);
  const one = await jInvariantDenoise(randomImage(1, 1, 1, 2), async (m) => m, { stride: 4 });
  assert.equal(one.data.length, 1);
  assert.ok(Number.isFinite(one.data[0]));
  await assert.rejects(jInvariantDenoise(im, boxBlur, { stride: 0 }), /options\.stride/);
  await assert.rejects(jInvariantDenoise(im, boxBlur, { replacement: 'noise' as 'zero' }), /options\.replacement/);
  await assert.rejects(jInvariantDenoise(im, async () => randomImage(2, 2, 4, 1)), /returning a 6x5x4 image/);
});

test('J-invariant inference comes from the metadata of Noise2Self models only', () => {
  const meta = (method: string, methodOptions: Record<string, unknown>) => ({ training: { method, methodOptions } }) as unknown as HushModelMetadata;
  assert.deepEqual(jInvariantFromMetadata(meta('n2self', { inference: 'j-invariant', stride: 3, replacement: 'zero' })), { stride: 3, replacement: 'zero' });
  assert.equal(jInvariantFromMetadata(meta('n2self', { inference: 'single', stride: 3 })), undefined);
  // models trained before the option existed: the method's default
  assert.deepEqual(jInvariantFromMetadata(meta('n2self', { stride: 4 })), { stride: 4, replacement: 'interpolate' });
  assert.equal(jInvariantFromMetadata(meta('n2v', { inference: 'j-invariant' })), undefined);
  assert.equal(jInvariantFromMetadata(undefined), undefined);
});

test('J-invariant: missing samples (NaN, image.mask) are not used to fill, stay missing for the network, and come back as they were', async () => {
  const im = randomImage(12, 10, 1, 5);
  im.data[3 * 12 + 4] = NaN;
  const flagged = { ...im, mask: new Uint8Array(120) };
  flagged.mask[7 * 12 + 8] = 1;
  flagged.data[7 * 12 + 8] = 1e6; // a placeholder value that must not leak
  const seenMissing: number[] = [];
  // a blur that skips missing samples, as the tiled runtime's fill does
  const blur = async (m: Image): Promise<Image> => {
    seenMissing.push(m.data.reduce((n, v, i) => n + (Number.isNaN(v) || m.mask?.[i] ? 1 : 0), 0));
    const out = m.data.slice();
    for (let y = 0; y < 10; y++)
      for (let x = 0; x < 12; x++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= 10 || xx < 0 || xx >= 12) continue;
            const q = yy * 12 + xx;
            if (Number.isNaN(m.data[q]) || m.mask?.[q]) continue;
            s += m.data[q];
            n++;
          }
        out[y * 12 + x] = s / n;
      }
    return withData(m, out);
  };
  const res = await jInvariantDenoise(flagged, blur, { stride: 3 });
  assert.ok(seenMissing.every((n) => n === 2), `every pass sees both missing samples: ${seenMissing.join(',')}`);
  assert.ok(Number.isNaN(res.data[3 * 12 + 4]));
  assert.equal(res.data[7 * 12 + 8], 1e6);
  for (let i = 0; i < 120; i++) if (i !== 3 * 12 + 4 && i !== 7 * 12 + 8) assert.ok(res.data[i] >= 0 && res.data[i] <= 1, `sample ${i}: ${res.data[i]}`);
});
