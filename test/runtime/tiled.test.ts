/**
 * inferTiled, checked with runners whose output is known (identity, x2, a 3x3 box
 * filter, recorders), and once with a real convolutional network: tiled and one-tile
 * runs must agree where the network's receptive field fits in the unblended context.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { inferTiled, planTileGrid, type TileRunner, type TileRunExtra } from '../../src/runtime/tiled.js';
import { tfjsTileRunner } from '../../src/runtime/tfjs-tile-runner.js';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { buildModel, runModel } from '../../src/models/index.js';
import { maxAbsDiff, randomImage, testPattern } from '../helpers/images.js';

interface Call {
  n: number;
  c: number;
  h: number;
  w: number;
  batch: Float32Array;
  extra?: TileRunExtra;
}

/** A runner computing f(batch), recording each call (with a copy of its input if `keep`). */
function runner(channels: number, f: (b: Float32Array, n: number, c: number, h: number, w: number) => Float32Array, multiple = 1, keep = false) {
  const calls: Call[] = [];
  const r: TileRunner = {
    channels,
    multiple,
    async run(batch, n, c, h, w, extra) {
      calls.push({ n, c, h, w, batch: keep ? batch.slice() : new Float32Array(0), extra });
      return f(batch, n, c, h, w);
    },
  };
  return { runner: r, calls };
}

const identity = (channels = 1, multiple = 1, keep = false) => runner(channels, (b) => b.slice(), multiple, keep);

/** 3x3 mean of each NCHW plane, edges clamped: a "network" with receptive-field radius 1. */
function box3(b: Float32Array, n: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(b.length);
  for (let p = 0; p < n * c; p++) {
    const o = p * h * w;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) s += b[o + Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))];
        }
        out[o + y * w + x] = s / 9;
      }
    }
  }
  return out;
}

function image(w: number, h: number, c: Channels, seed: number): Image {
  return randomImage(w, h, c, seed);
}

test('seams: a tiled run of a real conv net equals one big tile, and runModel away from the image border', async () => {
  await loadTfjs({ backend: 'wasm' });
  const model = await buildModel('dncnn', { depth: 4, width: 8, seed: 1 });
  const run = tfjsTileRunner(model);
  const im = testPattern(150, 130, 1);
  createRng(3).addNormal(im.data, im.data, 0.1);
  assert.equal(planTileGrid(150, 130, { tileSize: 64, tileOverlap: 16 }).count, 25);
  assert.equal(planTileGrid(150, 130, { tileSize: 256, tileOverlap: 16 }).count, 1);
  const tiled = await inferTiled(im, run, { tileSize: 64, tileOverlap: 16 });
  const whole = await inferTiled(im, run, { tileSize: 256, tileOverlap: 16 });
  // Four 3x3 convolutions: receptive-field radius 4 <= floor(16 / 2), so only rounding differs, even at the border (both mirror it).
  assert.ok(maxAbsDiff(tiled.data, whole.data) < 1e-4, String(maxAbsDiff(tiled.data, whole.data)));
  // runModel gives the network no context past the image, so within the radius of the border it differs.
  const ref = await runModel(model, im);
  const r = 4;
  let inner = 0;
  let border = 0;
  for (let y = 0; y < 130; y++) {
    for (let x = 0; x < 150; x++) {
      const d = Math.abs(tiled.data[y * 150 + x] - ref.data[y * 150 + x]);
      if (y >= r && y < 130 - r && x >= r && x < 150 - r) inner = Math.max(inner, d);
      else border = Math.max(border, d);
    }
  }
  assert.ok(inner < 1e-4, String(inner));
  assert.ok(border > 1e-3, String(border));
  // The comparison can fail: with 2 samples of overlap (1 never blended) the field reaches the tile edges.
  const seamy = await inferTiled(im, run, { tileSize: 64, tileOverlap: 2 });
  let worst = 0;
  for (let y = r; y < 130 - r; y++) for (let x = r; x < 150 - r; x++) worst = Math.max(worst, Math.abs(seamy.data[y * 150 + x] - ref.data[y * 150 + x]));
  assert.ok(worst > 1e-3, String(worst));
  model.dispose();
});

test('an identity runner returns the input for any tile size, overlap, multiple and batch, incl. 1x1 and 2x2', async () => {
  const sizes: [number, number][] = [[1, 1], [2, 2], [1, 7], [13, 5], [64, 64], [100, 37]];
  const tilings: [number, number][] = [[3, 1], [5, 2], [8, 3], [16, 0], [16, 4], [64, 16], [512, 32]];
  for (const [w, h] of sizes) {
    for (const [tileSize, tileOverlap] of tilings) {
      for (const [multiple, batchSize] of [[1, 1], [4, 3]]) {
        const im = image(w, h, 1, w * 100 + h);
        const out = await inferTiled(im, identity(1, multiple).runner, { tileSize, tileOverlap, batchSize });
        const what = `${w}x${h} tile ${tileSize}/${tileOverlap} multiple ${multiple}`;
        assert.equal(out.width, w);
        assert.equal(out.height, h);
        assert.ok(maxAbsDiff(out.data, im.data) <= 1e-6, `${what}: ${maxAbsDiff(out.data, im.data)}`);
        if (planTileGrid(w, h, { tileSize, tileOverlap, multiple }).count === 1) assert.deepEqual(out.data, im.data, what);
      }
    }
  }
  // RGBA, every normalisation: alpha untouched, colour back to within rounding.
  for (const normalization of [{ kind: 'none' as const }, { kind: 'affine' as const, offset: 0.5, scale: 2 }, { kind: 'standardize' as const }]) {
    const im = image(37, 29, 4, 9);
    const out = await inferTiled(im, identity(3).runner, { tileSize: 16, tileOverlap: 3, normalization });
    assert.ok(maxAbsDiff(out.data, im.data) <= 1e-5, normalization.kind);
    for (let i = 3; i < im.data.length; i += 4) assert.equal(out.data[i], im.data[i]);
  }
});

test('tiles read real neighbours inside the image and mirrored samples past it', async () => {
  const w = 23;
  const h = 17;
  const im = createImage(w, h, 1, Float32Array.from({ length: w * h }, (_, i) => i));
  const { runner: r, calls } = identity(1, 4, true);
  const options = { tileSize: 12, tileOverlap: 3 };
  await inferTiled(im, r, options);
  const grid = planTileGrid(w, h, { ...options, multiple: 4 });
  assert.equal(calls.length, grid.count);
  const reflect = (i: number, n: number) => {
    const m = ((i % (2 * n)) + 2 * n) % (2 * n);
    return m < n ? m : 2 * n - 1 - m;
  };
  calls.forEach((call, t) => {
    const rs = grid.rows.spans[Math.floor(t / grid.columns.spans.length)];
    const cs = grid.columns.spans[t % grid.columns.spans.length];
    for (let y = 0; y < call.h; y++) {
      for (let x = 0; x < call.w; x++) assert.equal(call.batch[y * call.w + x], reflect(rs.start + y, h) * w + reflect(cs.start + x, w), `tile ${t} (${y}, ${x})`);
    }
  });
});

test('tile sides are multiples of the runner multiple and one shape serves every call', async () => {
  for (const [w, h, tileSize, tileOverlap] of [[13, 7, 30, 5], [100, 37, 30, 5], [1, 1, 9, 0], [64, 64, 64, 8]]) {
    const shapes = new Set<string>();
    const check: TileRunner = {
      channels: 1,
      multiple: 8,
      async run(batch, n, c, hh, ww) {
        assert.equal(hh % 8, 0);
        assert.equal(ww % 8, 0);
        assert.ok(hh <= Math.ceil(tileSize / 8) * 8 && ww <= Math.ceil(tileSize / 8) * 8, `${hh}x${ww}`);
        shapes.add(`${hh}x${ww}`);
        return batch.slice();
      },
    };
    const im = image(w, h, 1, 5);
    const out = await inferTiled(im, check, { tileSize, tileOverlap });
    assert.ok(maxAbsDiff(out.data, im.data) <= 1e-6);
    assert.equal(shapes.size, 1);
  }
});

test('NaN and masked samples are filled from valid neighbours, restored after, and do not spread', async () => {
  const w = 40;
  const h = 30;
  const im = createImage(w, h, 1);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) im.data[y * w + x] = x < 20 ? 0.2 : 0.9;
  im.mask = new Uint8Array(w * h);
  const nan = [15 * w + 10, 3 * w + 2, 0]; // isolated, near the border, in the corner
  for (const i of nan) im.data[i] = Number.NaN;
  const blank = 20 * w + 30;
  im.data[blank] = -999; // a no-data value kept in the data, as FITS BLANK
  im.mask[blank] = 1;
  for (let y = 5; y < 15; y++) for (let x = 25; x < 35; x++) im.data[y * w + x] = Number.POSITIVE_INFINITY; // wider than the fill window
  const out = await inferTiled(im, runner(1, box3).runner, { tileSize: 16, tileOverlap: 4 });
  for (const i of nan) assert.ok(Number.isNaN(out.data[i]), String(i));
  assert.equal(out.data[blank], -999);
  assert.deepEqual(out.mask, im.mask);
  for (let y = 5; y < 15; y++) for (let x = 25; x < 35; x++) assert.equal(out.data[y * w + x], Number.POSITIVE_INFINITY);
  for (let i = 0; i < w * h; i++) {
    if (Number.isFinite(im.data[i]) && i !== blank) assert.ok(Number.isFinite(out.data[i]), `(${Math.floor(i / w)}, ${i % w})`);
  }
  // Filled with the local mean, flat regions stay flat next to a hole: neither the
  // median of the image nor the no-data value -999 leaks into a neighbour.
  for (const [y, x] of [[14, 9], [14, 10], [16, 11], [15, 9], [0, 1], [1, 1], [2, 2]]) assert.ok(Math.abs(out.data[y * w + x] - 0.2) < 1e-6, `(${y}, ${x}) ${out.data[y * w + x]}`);
  for (const [y, x] of [[19, 30], [21, 31], [20, 29], [4, 30], [15, 30], [10, 24], [10, 35]]) assert.ok(Math.abs(out.data[y * w + x] - 0.9) < 1e-6, `(${y}, ${x}) ${out.data[y * w + x]}`);
});

test('the fill is the mean of valid samples in the 5x5 window, else the channel median', async () => {
  const w = 20;
  const h = 20;
  const im = createImage(w, h, 1, Float32Array.from({ length: w * h }, (_, i) => ((i % w) * 7 + Math.floor(i / w) * 3) % 11));
  im.mask = new Uint8Array(w * h);
  for (let y = 6; y < 14; y++) for (let x = 6; x < 14; x++) im.data[y * w + x] = Number.NaN;
  im.mask[2 * w + 3] = 1;
  im.data[17 * w + 1] = Number.NEGATIVE_INFINITY;
  const missing = (i: number) => !Number.isFinite(im.data[i]) || im.mask![i] === 1;
  const valid = Array.from(im.data).filter((_, i) => !missing(i)).sort((a, b) => a - b);
  const median = valid[Math.floor((valid.length - 1) / 2)];
  const { runner: r, calls } = identity(1, 1, true);
  await inferTiled(im, r, { tileSize: 64, tileOverlap: 0 }); // one tile, starting at (0, 0)
  const seen = calls[0].batch;
  let medians = 0;
  for (let i = 0; i < w * h; i++) {
    if (!missing(i)) continue;
    const y = Math.floor(i / w);
    const x = i % w;
    let s = 0;
    let c = 0;
    for (let yy = Math.max(0, y - 2); yy <= Math.min(h - 1, y + 2); yy++) {
      for (let xx = Math.max(0, x - 2); xx <= Math.min(w - 1, x + 2); xx++) {
        if (!missing(yy * w + xx)) {
          s += im.data[yy * w + xx];
          c++;
        }
      }
    }
    if (c === 0) medians++;
    assert.ok(Math.abs(seen[i] - (c > 0 ? s / c : median)) < 1e-6, `(${y}, ${x}): ${seen[i]}`);
  }
  assert.equal(medians, 16);
});

test("'standardize' uses the whole image's mean and deviation, over valid samples, in every tile", async () => {
  const w = 128;
  const h = 32;
  const im = createImage(w, h, 1);
  for (let y = 0; y < h; y++) for (let x = 64; x < w; x++) im.data[y * w + x] = 1;
  im.data[5 * w + 100] = Number.NaN;
  const { runner: r, calls } = identity(1, 1, true);
  const out = await inferTiled(im, r, { tileSize: 32, tileOverlap: 4, normalization: { kind: 'standardize' } });
  const mean = 2047 / 4095;
  const std = Math.sqrt(mean * (1 - mean));
  // The first tile lies in the zero half: per-tile statistics would make it 0, global ones -mean/std.
  assert.ok(calls[0].batch.every((v) => Math.abs(v - -mean / std) < 1e-5), String(calls[0].batch[0]));
  const last = calls[calls.length - 1].batch;
  assert.ok(last.every((v) => Math.abs(v - (1 - mean) / std) < 1e-5), String(last[0]));
  assert.ok(Number.isNaN(out.data[5 * w + 100]));
  out.data[5 * w + 100] = im.data[5 * w + 100] = 0;
  assert.ok(maxAbsDiff(out.data, im.data) < 1e-5);

  // One mean over the colour channels in strict mode, one per channel in per-channel mode.
  const rgb = createImage(8, 8, 3);
  for (let i = 0; i < rgb.data.length; i++) rgb.data[i] = (i % 3) + 1;
  const strict = identity(3, 1, true);
  await inferTiled(rgb, strict.runner, { normalization: { kind: 'standardize' } });
  const s = Math.sqrt(2 / 3);
  const plane = strict.calls[0].h * strict.calls[0].w;
  [-1 / s, 0, 1 / s].forEach((v, p) => assert.ok(strict.calls[0].batch.subarray(p * plane, (p + 1) * plane).every((u) => Math.abs(u - v) < 1e-6), String(p)));
  const each = identity(1, 1, true);
  await inferTiled(rgb, each.runner, { normalization: { kind: 'standardize' }, channelMode: 'per-channel' });
  assert.ok(each.calls[0].batch.every((v) => v === 0));
});

test('progress counts tiles per runner call; the signal aborts between calls', async () => {
  const im = image(40, 20, 1, 2);
  const options = { tileSize: 24, tileOverlap: 4 };
  const count = planTileGrid(40, 20, options).count;
  assert.equal(count, 6);
  const seen: [number, number, number][] = [];
  const { runner: r, calls } = identity();
  await inferTiled(im, r, { ...options, batchSize: 4, onProgress: (f, t) => seen.push([f, t.done, t.total]) });
  assert.deepEqual(seen, [[4 / 6, 4, 6], [1, 6, 6]]);
  assert.deepEqual(calls.map((c) => c.n), [4, 2]);

  const ac = new AbortController();
  const a = identity();
  await assert.rejects(inferTiled(im, a.runner, { ...options, signal: ac.signal, onProgress: () => ac.abort() }), { name: 'AbortError' });
  assert.equal(a.calls.length, 1);
  const b = identity();
  await assert.rejects(inferTiled(im, b.runner, { ...options, signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(b.calls.length, 0);
});

test('per-channel: a grey runner sees each colour channel as its own input; strict RGB sees 3 channels; alpha is untouched', async () => {
  const im = image(30, 20, 4, 7);
  const double = (b: Float32Array) => b.map((v) => 2 * v);
  const grey = runner(1, double);
  const out = await inferTiled(im, grey.runner, { channelMode: 'per-channel', tileSize: 16, tileOverlap: 2, batchSize: 2 });
  assert.ok(grey.calls.every((c) => c.c === 1));
  assert.deepEqual(grey.calls.map((c) => c.n), [6, 6, 6]);
  const rgb = runner(3, double);
  const out3 = await inferTiled(im, rgb.runner, { tileSize: 16, tileOverlap: 2, batchSize: 2 });
  assert.ok(rgb.calls.every((c) => c.c === 3 && c.n === 2));
  for (const o of [out, out3]) {
    for (let i = 0; i < im.data.length; i++) {
      if (i % 4 === 3) assert.equal(o.data[i], im.data[i]);
      else assert.ok(Math.abs(o.data[i] - 2 * im.data[i]) < 1e-6);
    }
  }
  // a grey+alpha image with a grey runner is strict, not per-channel
  const ga = runner(1, double);
  await inferTiled(image(5, 5, 2, 1), ga.runner);
  assert.deepEqual(ga.calls.map((c) => [c.n, c.c]), [[1, 1]]);
});

test('the exposure ratio reaches the runner of a conditioned network', async () => {
  const { runner: r, calls } = identity();
  await inferTiled(image(5, 5, 1, 1), { ...r, conditioned: true }, { exposureRatio: 2.5 });
  assert.deepEqual(calls[0].extra, { exposureRatio: 2.5 });
});

test('inferTiled and planTileGrid reject bad input with house-style messages', async () => {
  const im = image(10, 10, 1, 1);
  const id = identity().runner;
  const rejects = (promise: Promise<unknown>, message: string) => assert.rejects(promise, { code: 'ERR_INVALID_PARAMETER', message });
  await rejects(inferTiled(im, id, { tileSize: 64, tileOverlap: 32 }), 'inferTiled: expected an integer above 64 (twice options.tileOverlap) for options.tileSize but received 64 (number).');
  await rejects(inferTiled(im, id, { tileSize: 40 }), 'inferTiled: expected an integer above 64 (twice options.tileOverlap) for options.tileSize but received 40 (number).');
  await rejects(inferTiled(im, id, { tileSize: 10.5 }), 'inferTiled: expected an integer of at least 1 for options.tileSize but received 10.5 (number).');
  await rejects(inferTiled(im, id, { tileOverlap: -1 }), 'inferTiled: expected an integer of at least 0 for options.tileOverlap but received -1 (number).');
  await rejects(inferTiled(im, id, { tileOverlap: Number.NaN }), 'inferTiled: expected an integer of at least 0 for options.tileOverlap but received NaN (number).');
  await rejects(inferTiled(im, id, { batchSize: 0 }), 'inferTiled: expected an integer of at least 1 for options.batchSize but received 0 (number).');
  await rejects(
    inferTiled(im, id, { channelMode: 'per-chanel' as 'strict' }),
    "inferTiled: expected one of 'strict', 'per-channel' for options.channelMode but received 'per-chanel' (string). Did you mean 'per-channel'?",
  );
  await rejects(
    inferTiled(im, id, { normalization: { kind: 'standardise' as 'standardize' } }),
    "inferTiled: expected one of 'none', 'affine', 'standardize' for options.normalization.kind but received 'standardise' (string). Did you mean 'standardize'?",
  );
  await rejects(inferTiled(im, id, { exposureRatio: 0 }), 'inferTiled: expected a finite number above 0 for options.exposureRatio but received 0 (number).');
  await rejects(
    inferTiled(im, { ...id, conditioned: true }),
    'inferTiled: expected a positive number (the model is conditioned on the exposure-time ratio) for options.exposureRatio but received undefined.',
  );
  await rejects(inferTiled(im, id, { onProgress: 'x' as unknown as () => void }), "inferTiled: expected a function for options.onProgress but received 'x' (string).");
  await rejects(inferTiled(im, id, { signal: {} as AbortSignal }), 'inferTiled: expected an AbortSignal for options.signal but received an object (Object).');
  await rejects(inferTiled(im, null as unknown as TileRunner), 'inferTiled: expected a TileRunner (an object with channels, multiple and run) for runner but received null.');
  await rejects(inferTiled(im, { ...id, channels: 2 }), 'inferTiled: expected one of 1, 3 for runner.channels but received 2 (number).');
  await rejects(inferTiled(im, { ...id, multiple: 0 }), 'inferTiled: expected an integer of at least 1 for runner.multiple but received 0 (number).');
  await rejects(inferTiled(null as unknown as Image, id), 'inferTiled: expected an Image object for image but received null.');
  await rejects(
    inferTiled(image(4, 4, 3, 1), id),
    "inferTiled: the model takes grey (1-channel) images but the image is RGB (3-channel); convert the image to grey, use a model trained for RGB, or pass channelMode: 'per-channel'",
  );
  await rejects(
    inferTiled(im, identity(3).runner, { channelMode: 'per-channel' }),
    'inferTiled: the model takes RGB (3-channel) images but the image is grey (1-channel); convert the image to RGB or use a model trained for grey images',
  );
  await rejects(
    inferTiled(im, runner(1, () => new Float32Array(3)).runner, { tileSize: 16, tileOverlap: 3 }),
    'inferTiled: runner.run returned a Float32Array of length 3 for a 1x1x16x16 batch (NCHW); expected a Float32Array of length 256',
  );
  await rejects(
    inferTiled(im, runner(1, () => [1, 2] as unknown as Float32Array).runner, { tileSize: 16, tileOverlap: 3 }),
    'inferTiled: runner.run returned an array of length 2 for a 1x1x16x16 batch (NCHW); expected a Float32Array of length 256',
  );
  assert.throws(() => planTileGrid(0, 5), { message: 'planTileGrid: expected an integer of at least 1 for width but received 0 (number).' });
  assert.throws(() => planTileGrid(5, 5, { multiple: 0 }), { message: 'planTileGrid: expected an integer of at least 1 for options.multiple but received 0 (number).' });
  assert.throws(() => planTileGrid(5, 5, { tileSize: 8, tileOverlap: 4 }), {
    message: 'planTileGrid: expected an integer above 8 (twice options.tileOverlap) for options.tileSize but received 8 (number).',
  });
});

test('planTileGrid: cores partition the image, tiles carry the context and stay within tileSize, weights sum to 1', () => {
  for (const length of [1, 2, 7, 31, 32, 33, 100, 513, 1000]) {
    for (const [tileSize, tileOverlap, multiple] of [[3, 1, 1], [8, 3, 1], [16, 0, 1], [30, 5, 8], [64, 16, 1], [512, 32, 16], [100, 7, 32]]) {
      const grid = planTileGrid(length, 3, { tileSize, tileOverlap, multiple });
      const { size, spans } = grid.columns;
      const what = `length ${length}, tile ${tileSize}/${tileOverlap}, multiple ${multiple}`;
      assert.equal(size % multiple, 0, what);
      assert.ok(size <= Math.ceil(tileSize / multiple) * multiple, what);
      assert.equal(grid.count, grid.rows.spans.length * spans.length);
      let next = 0;
      const sum = new Float64Array(length);
      const dead = Math.floor(tileOverlap / 2);
      spans.forEach((s, k) => {
        assert.equal(s.coreStart, next, what);
        assert.ok(s.coreEnd > s.coreStart, what);
        next = s.coreEnd;
        assert.ok(s.start <= s.coreStart - tileOverlap && s.start + size >= s.coreEnd + tileOverlap, what);
        assert.ok(s.from <= s.coreStart && s.to >= s.coreEnd, what);
        for (let i = 0; i < size; i++) {
          const p = s.start + i;
          if (p < s.from || p >= s.to) assert.equal(s.weights[i], 0, what);
          else sum[p] += s.weights[i];
          if (p >= s.coreStart && p < s.coreEnd) assert.ok(s.weights[i] > 0, what);
          // the outermost floor(overlap/2) samples towards a neighbour are context only
          if ((k > 0 && i < dead) || (k < spans.length - 1 && i >= size - dead)) assert.equal(s.weights[i], 0, `${what}: tile ${k} sample ${i}`);
        }
      });
      assert.equal(next, length, what);
      assert.ok(sum.every((v) => Math.abs(v - 1) < 1e-12), what);
    }
  }
  // A 10000 x 10000 image at the defaults: 23 x 23 tiles of 499 x 499, so one tile's buffer is under a megabyte.
  const big = planTileGrid(10000, 10000);
  assert.equal(big.count, 529);
  assert.equal(big.rows.size, 499);
  assert.equal(big.columns.size, 499);
  // The ramp: sin^2 over 2 * ceil(overlap / 2) samples centred on the border of two cores, the two tiles' weights adding to 1.
  const two = planTileGrid(40, 1, { tileSize: 28, tileOverlap: 4 }).columns.spans;
  assert.equal(two.length, 2);
  const border = two[0].coreEnd;
  const w0 = (p: number) => two[0].weights[p - two[0].start];
  const expected = [1, 1 - Math.sin(Math.PI / 16) ** 2, Math.cos((3 * Math.PI) / 16) ** 2, Math.sin((3 * Math.PI) / 16) ** 2, Math.sin(Math.PI / 16) ** 2, 0];
  expected.forEach((v, j) => assert.ok(Math.abs(w0(border - 3 + j) - v) < 1e-15, `${j}: ${w0(border - 3 + j)}`));
});
