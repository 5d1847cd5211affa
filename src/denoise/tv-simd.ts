/**
 * The row kernels of Chambolle's TV iteration (tv-chambolle.ts) in float32, as a
 * WebAssembly SIMD module (four samples per instruction, assembled by core/wasm-asm.ts)
 * and as JavaScript that performs the very same float32 operations in the same order
 * (Math.fround after every operation; a float64 result of +, -, *, / or sqrt of
 * float32 operands rounds to the float32 result), so the two agree bit for bit and the
 * JavaScript one is the fallback where WebAssembly SIMD is missing.
 *
 * Layout (byte offsets into one heap): a plane of width w is row-major; the dual field
 * p0 has one row of zeros in front of it and p1 one zero sample (so the divergence needs
 * no border cases: scikit-image's missing terms are these zeros, and p0 on the last row
 * and p1 on the last column stay 0 for ever). Each row sum (sum d^2, sum |grad u|) is
 * accumulated in four float32 lanes over the first 4 floor(count / 4) samples, the lanes
 * added as (l0 + l1) + (l2 + l3), then the remaining samples one by one.
 */
import { Body, OP, SIMD, assembleModule, compileModule, instantiate, simdAllowed, type WasmMemory } from '../core/wasm-asm.js';

/** The step of the dual update, 1 / (2 ndim) for 2-D planes (scikit-image's tau). */
export const TV_TAU = 0.25;

export interface TvRowKernels {
  /**
   * u = f + div p on one row of w samples: d = -(p0 + p1) + p0[row above] + p1[left];
   * out = img + d. Returns sum d^2 (float32).
   */
  out(img: number, out: number, p0: number, p1: number, w: number): number;
  /**
   * The dual update on one row from g0 = u[below] - u, g1 = u[right] - u (0 on the last
   * column; `below` = `out` gives g0 = 0 on the last row): norm = sqrt(g0^2 + g1^2),
   * p = (p - tau g) / (norm k + 1). Returns sum norm (float32).
   */
  dual(out: number, below: number, p0: number, p1: number, w: number, k: number): number;
}

/** Lanes (l0 + l1) + (l2 + l3) of an f32x4, onto the stack as an f32. */
function laneSum(b: Body, v: string): void {
  const lane = (l: number): void => {
    b.get(v).simd(SIMD.f32x4Extract, l);
  };
  lane(0);
  lane(1);
  b.op(...OP.f32Add);
  lane(2);
  lane(3);
  b.op(...OP.f32Add).op(...OP.f32Add);
}

function buildOut(): Body {
  const b = new Body(
    [['img', 'i32'], ['out', 'i32'], ['p0', 'i32'], ['p1', 'i32'], ['w', 'i32']],
    ['f32'],
  );
  b.local('i32', 'up', 'left', 'vend', 'tend').local('v128', 'acc', 'd').local('f32', 's', 'ds');
  b.get('p0').get('w').i32(2).op(...OP.i32Shl, ...OP.i32Sub).set('up');
  b.get('p1').i32(4).op(...OP.i32Sub).set('left');
  b.get('img').get('w').i32(-4).op(...OP.i32And).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('vend');
  b.get('img').get('w').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('tend');
  b.f32(0).simd(SIMD.f32x4Splat).set('acc');
  const ptrs = ['img', 'out', 'p0', 'p1', 'up', 'left'];
  b.loopUntil(
    () => b.get('img', 'vend').op(...OP.i32GeU),
    () => {
      b.get('p0').vload().get('p1').vload().simd(SIMD.f32x4Add).simd(SIMD.f32x4Neg);
      b.get('up').vload().simd(SIMD.f32x4Add).get('left').vload().simd(SIMD.f32x4Add).set('d');
      b.get('out').get('img').vload().get('d').simd(SIMD.f32x4Add).vstore();
      b.get('acc').get('d', 'd').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('acc');
      for (const p of ptrs) b.addTo(p, 16);
    },
  );
  laneSum(b, 'acc');
  b.set('s');
  b.loopUntil(
    () => b.get('img', 'tend').op(...OP.i32GeU),
    () => {
      b.get('p0').fload().get('p1').fload().op(...OP.f32Add, ...OP.f32Neg);
      b.get('up').fload().op(...OP.f32Add).get('left').fload().op(...OP.f32Add).set('ds');
      b.get('out').get('img').fload().get('ds').op(...OP.f32Add).fstore();
      b.get('s').get('ds', 'ds').op(...OP.f32Mul, ...OP.f32Add).set('s');
      for (const p of ptrs) b.addTo(p, 4);
    },
  );
  b.get('s');
  return b;
}

function buildDual(): Body {
  const b = new Body(
    [['out', 'i32'], ['below', 'i32'], ['p0', 'i32'], ['p1', 'i32'], ['w', 'i32'], ['k', 'f32']],
    ['f32'],
  );
  b.local('i32', 'vend', 'tend').local('v128', 'acc', 'K', 'TAU', 'ONE', 'u', 'g0', 'g1', 'norm', 'den');
  b.local('f32', 's', 'su', 'sg0', 'sg1', 'snorm', 'sden');
  // vectors over the first 4 floor((w - 1) / 4) samples (their right neighbour is in the row), then one by one
  b.get('out').get('w').i32(1).op(...OP.i32Sub).i32(-4).op(...OP.i32And).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('vend');
  b.get('out').get('w').i32(1).op(...OP.i32Sub).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('tend');
  b.get('k').simd(SIMD.f32x4Splat).set('K');
  b.f32(TV_TAU).simd(SIMD.f32x4Splat).set('TAU');
  b.f32(1).simd(SIMD.f32x4Splat).set('ONE');
  b.f32(0).simd(SIMD.f32x4Splat).set('acc');
  const ptrs = ['out', 'below', 'p0', 'p1'];
  b.loopUntil(
    () => b.get('out', 'vend').op(...OP.i32GeU),
    () => {
      b.get('out').vload().set('u');
      b.get('below').vload().get('u').simd(SIMD.f32x4Sub).set('g0');
      b.get('out').vload(4).get('u').simd(SIMD.f32x4Sub).set('g1');
      b.get('g0', 'g0').simd(SIMD.f32x4Mul).get('g1', 'g1').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).simd(SIMD.f32x4Sqrt).set('norm');
      b.get('acc', 'norm').simd(SIMD.f32x4Add).set('acc');
      b.get('norm', 'K').simd(SIMD.f32x4Mul).get('ONE').simd(SIMD.f32x4Add).set('den');
      b.get('p0').get('p0').vload().get('TAU', 'g0').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Sub).get('den').simd(SIMD.f32x4Div).vstore();
      b.get('p1').get('p1').vload().get('TAU', 'g1').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Sub).get('den').simd(SIMD.f32x4Div).vstore();
      for (const p of ptrs) b.addTo(p, 16);
    },
  );
  laneSum(b, 'acc');
  b.set('s');
  const scalar = (rightOffset: number): void => {
    b.get('out').fload().set('su');
    b.get('below').fload().get('su').op(...OP.f32Sub).set('sg0');
    b.get('out').fload(rightOffset).get('su').op(...OP.f32Sub).set('sg1');
    b.get('sg0', 'sg0').op(...OP.f32Mul).get('sg1', 'sg1').op(...OP.f32Mul, ...OP.f32Add, ...OP.f32Sqrt).set('snorm');
    b.get('s', 'snorm').op(...OP.f32Add).set('s');
    b.get('snorm', 'k').op(...OP.f32Mul).f32(1).op(...OP.f32Add).set('sden');
    b.get('p0').get('p0').fload().f32(TV_TAU).get('sg0').op(...OP.f32Mul, ...OP.f32Sub).get('sden').op(...OP.f32Div).fstore();
    b.get('p1').get('p1').fload().f32(TV_TAU).get('sg1').op(...OP.f32Mul, ...OP.f32Sub).get('sden').op(...OP.f32Div).fstore();
  };
  b.loopUntil(
    () => b.get('out', 'tend').op(...OP.i32GeU),
    () => {
      scalar(4);
      for (const p of ptrs) b.addTo(p, 4);
    },
  );
  // the last column: its right neighbour is itself, so g1 = 0
  scalar(0);
  b.get('s');
  return b;
}

const compiled: Partial<Record<'plain' | 'shared', object | null>> = {};

/** The compiled module for a plain or a shared (worker threads) memory; null where WebAssembly SIMD is missing. */
export function tvModule(shared: boolean): object | null {
  const key = shared ? 'shared' : 'plain';
  if (compiled[key] === undefined) {
    compiled[key] = compileModule(
      assembleModule({
        functions: [
          { name: 'out', body: buildOut() },
          { name: 'dual', body: buildDual() },
        ],
        memory: shared ? { minPages: 1, maxPages: 65536, shared: true } : { minPages: 1 },
      }),
    );
  }
  return compiled[key] ?? null;
}

/** Whether the SIMD kernels run here (WebAssembly SIMD present and HUSH_NO_SIMD unset). */
export function tvSimdAvailable(): boolean {
  return simdAllowed() && tvModule(false) !== null;
}

/** The SIMD kernels on a memory, or undefined where they cannot run. */
export function tvSimdKernels(memory: WasmMemory, shared: boolean): TvRowKernels | undefined {
  if (!simdAllowed()) return undefined;
  const mod = tvModule(shared);
  return mod ? instantiate<TvRowKernels>(mod, memory) : undefined;
}

const f = Math.fround;

/** The same kernels in JavaScript on a float32 view of the heap (byte offsets as for the SIMD ones). */
export function tvJsKernels(heap: Float32Array): TvRowKernels {
  const lanes = new Float64Array(4);
  return {
    out(img, out, p0, p1, w) {
      const a = img >> 2;
      const o = out >> 2;
      const q0 = p0 >> 2;
      const q1 = p1 >> 2;
      const v = w & ~3;
      lanes.fill(0);
      for (let j = 0; j < v; j++) {
        const d = f(f(f(-f(heap[q0 + j] + heap[q1 + j])) + heap[q0 + j - w]) + heap[q1 + j - 1]);
        heap[o + j] = f(heap[a + j] + d);
        lanes[j & 3] = f(lanes[j & 3] + f(d * d));
      }
      let s = f(f(lanes[0] + lanes[1]) + f(lanes[2] + lanes[3]));
      for (let j = v; j < w; j++) {
        const d = f(f(f(-f(heap[q0 + j] + heap[q1 + j])) + heap[q0 + j - w]) + heap[q1 + j - 1]);
        heap[o + j] = f(heap[a + j] + d);
        s = f(s + f(d * d));
      }
      return s;
    },
    dual(out, below, p0, p1, w, k) {
      const o = out >> 2;
      const bl = below >> 2;
      const q0 = p0 >> 2;
      const q1 = p1 >> 2;
      const kf = f(k);
      const v = (w - 1) & ~3;
      lanes.fill(0);
      let s = 0;
      for (let j = 0; j < w; j++) {
        const u = heap[o + j];
        const g0 = f(heap[bl + j] - u);
        const g1 = j < w - 1 ? f(heap[o + j + 1] - u) : f(u - u);
        const norm = f(Math.sqrt(f(f(g0 * g0) + f(g1 * g1))));
        if (j < v) lanes[j & 3] = f(lanes[j & 3] + norm);
        else {
          if (j === v) s = f(f(lanes[0] + lanes[1]) + f(lanes[2] + lanes[3]));
          s = f(s + norm);
        }
        const den = f(f(norm * kf) + 1);
        heap[q0 + j] = f(f(heap[q0 + j] - f(TV_TAU * g0)) / den);
        heap[q1 + j] = f(f(heap[q1 + j] - f(TV_TAU * g1)) / den);
      }
      return s;
    },
  };
}
