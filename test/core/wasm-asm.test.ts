import test from 'node:test';
import assert from 'node:assert/strict';
import { Body, KeptMemory, OP, SIMD, assembleModule, compileModule, f32Bytes, instantiate, newMemory, sleb, uleb, WASM_PAGE } from '../../src/core/wasm-asm.js';

test('LEB128 and constant encodings follow the WebAssembly specification', () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(uleb(0xffffffff), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(sleb(0), [0]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(-64), [0x40]);
  assert.deepEqual(sleb(-65), [0xbf, 0x7f]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(f32Bytes(1), [0, 0, 0x80, 0x3f]);
  assert.deepEqual(f32Bytes(-2.5), [0, 0, 0x20, 0xc0]);
});

test('a body refuses unknown and duplicate locals', () => {
  const b = new Body([['x', 'i32']]);
  b.local('f32', 'y');
  assert.throws(() => b.get('z'), /no local z/);
  assert.throws(() => b.local('i32', 'y'), /declared twice/);
});

test('assembled modules run: scalar loop, SIMD arithmetic and shuffles on the imported memory', () => {
  // sum(p, n) -> f32: a scalar loop; scale(p, n, s): p[i] *= s four at a time; swap(p): lanes (1, 0, 3, 2) of the vector at p
  const sum = new Body([['p', 'i32'], ['n', 'i32']], ['f32']).local('i32', 'end').local('f32', 's');
  sum.get('p').get('n').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('end');
  sum.loopUntil(
    () => sum.get('p', 'end').op(...OP.i32GeU),
    () => {
      sum.get('s').get('p').fload().op(...OP.f32Add).set('s');
      sum.addTo('p', 4);
    },
  );
  sum.get('s');
  const scale = new Body([['p', 'i32'], ['n', 'i32'], ['s', 'f32']]).local('i32', 'end').local('v128', 'S');
  scale.get('s').simd(SIMD.f32x4Splat).set('S');
  scale.get('p').get('n').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('end');
  scale.loopUntil(
    () => scale.get('p', 'end').op(...OP.i32GeU),
    () => {
      scale.get('p').get('p').vload().get('S').simd(SIMD.f32x4Mul).vstore();
      scale.addTo('p', 16);
    },
  );
  const swap = new Body([['p', 'i32']]);
  swap.get('p').get('p').vload().get('p').vload().shuffle32([1, 0, 7, 6]).vstore(16);
  const bytes = assembleModule({
    functions: [
      { name: 'sum', body: sum },
      { name: 'scale', body: scale },
      { name: 'swap', body: swap },
    ],
    memory: { minPages: 1 },
  });
  // magic, version, then sections in order: type (1), import (2), function (3), export (7), code (10)
  assert.deepEqual(Array.from(bytes.subarray(0, 8)), [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  assert.equal(bytes[8], 1);
  const mod = compileModule(bytes);
  assert.ok(mod, 'Node 20 has WebAssembly SIMD');
  const memory = newMemory(1);
  const e = instantiate<{ sum(p: number, n: number): number; scale(p: number, n: number, s: number): void; swap(p: number): void }>(mod, memory);
  const heap = new Float32Array(memory.buffer);
  heap.set([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(e.sum(0, 8), 36);
  assert.equal(e.sum(4, 3), 9);
  e.scale(0, 8, 0.5);
  assert.deepEqual(Array.from(heap.subarray(0, 8)), [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
  e.swap(0);
  assert.deepEqual(Array.from(heap.subarray(4, 8)), [1, 0.5, 2, 1.5]);
  // a broken module does not compile: null, so callers take their JavaScript path
  assert.equal(compileModule(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0x0a, 1])), null);
});

test('shared memories need a maximum; kept memories are reused and grown', () => {
  assert.throws(() => assembleModule({ functions: [], memory: { minPages: 1, shared: true } }), /maxPages/);
  const shared = assembleModule({ functions: [], memory: { minPages: 1, maxPages: 65536, shared: true } });
  assert.ok(compileModule(shared));
  const kept = new KeptMemory(4 * WASM_PAGE);
  const a = kept.take(100);
  assert.equal(a.fresh, true);
  const b = kept.take(2 * WASM_PAGE);
  assert.equal(b.memory, a.memory, 'grown, not replaced');
  assert.equal(b.memory.buffer.byteLength, 2 * WASM_PAGE);
  assert.equal(kept.take(10).fresh, false);
  // beyond the keep limit: a fresh memory, the kept one stays
  const big = kept.take(8 * WASM_PAGE);
  assert.notEqual(big.memory, a.memory);
  assert.equal(kept.take(10).memory, a.memory);
});
