import test from 'node:test';
import assert from 'node:assert/strict';
import { newMemory } from '../../src/core/wasm-asm.js';
import { createRng } from '../../src/core/rng.js';
import { TV_TAU, tvJsKernels, tvSimdAvailable, tvSimdKernels } from '../../src/denoise/tv-simd.js';

test('SIMD row kernels equal the JavaScript ones bit for bit, sums included, for every row length 1..19', () => {
  assert.ok(tvSimdAvailable(), 'Node 20 has WebAssembly SIMD');
  const memory = newMemory(1);
  const simd = tvSimdKernels(memory, false)!;
  const heap = new Float32Array(memory.buffer);
  const js = tvJsKernels(heap);
  const rng = createRng(31);
  // regions (bytes): img 0, out 4096, p0 8192 (a row above it), p1 12288; three rows of w
  for (let w = 1; w < 20; w++) {
    heap.fill(0);
    for (let i = 0; i < 3 * w; i++) {
      heap[i] = rng.next();
      heap[1024 + i] = rng.next();
      heap[2048 - w + i] = 0.3 * rng.normal();
      heap[3072 + i] = 0.3 * rng.normal();
    }
    const start = heap.slice(0, 4096);
    const run = (k: typeof js): [number[], Float32Array] => {
      heap.set(start);
      const sums = [
        k.out(4 * w, 4096 + 4 * w, 8192 + 4 * w, 12288 + 4 * w, w),
        k.dual(4096, 4096 + 4 * w, 8192, 12288, w, Math.fround(TV_TAU / 0.07)),
        // the last row: below = the row itself, so g0 = 0
        k.dual(4096 + 8 * w, 4096 + 8 * w, 8192 + 8 * w, 12288 + 8 * w, w, 3),
      ];
      return [sums, heap.slice(0, 4096)];
    };
    const [s1, h1] = run(simd);
    const [s2, h2] = run(js);
    assert.deepEqual(s1, s2, `sums, w = ${w}`);
    assert.deepEqual(h1, h2, `heap, w = ${w}`);
    assert.ok(s1[0] > 0 && s1[1] > 0, `sums ${s1}`);
    // the last column's p1 is untouched by a zero gradient: (p1 - 0) / den
    assert.notEqual(h1[3072 + w - 1], start[3072 + w - 1], 'p1 changed where g1 = 0 only by the denominator');
  }
});

test('the divergence uses the zeros around p: u = f + d with d by hand on a 3 x 2 plane', () => {
  const memory = newMemory(1);
  const k = tvSimdKernels(memory, false)!;
  const heap = new Float32Array(memory.buffer);
  heap.fill(0);
  // p0 rows at 8192 (the row of zeros before it is at 8192 - 12), p1 at 12288 (a zero before it)
  heap.set([1, 2, 3], 2048);
  heap.set([0.5, 0.25, 0], 3072);
  heap.set([0.125, 0, 0], 3075);
  // row 0: d = -(p0 + p1) + 0 (above) + p1[left]
  const s0 = k.out(0, 4096, 8192, 12288, 3);
  assert.deepEqual(Array.from(heap.subarray(1024, 1027)), [-1.5, -2.25 + 0.5, -3 + 0.25]);
  assert.equal(s0, 1.5 ** 2 + 1.75 ** 2 + 2.75 ** 2);
  // row 1: p0 of row 1 is 0, the row above is p0 of row 0, p1[left] of column 0 is the previous row's last p1 (0)
  k.out(12, 4096 + 12, 8192 + 12, 12288 + 12, 3);
  assert.deepEqual(Array.from(heap.subarray(1027, 1030)), [-0.125 + 1, 2 + 0.125, 3]);
});
