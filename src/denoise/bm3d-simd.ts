/**
 * BM3D's hot loops as a tiny WebAssembly module with 128-bit SIMD (four 32-bit lanes),
 * assembled here byte by byte so there is no build step and no dependency. Block
 * matching: `update` slides the column sums of squared differences one row down,
 * `init` adds one row to them, `rowSums` forms the 8-wide horizontal sums (exact
 * integer versions of the JavaScript loops in bm3d-match.ts). Collaborative filtering
 * on 8x8 blocks (64 float32 coefficients = 256 bytes each): `gather` copies a group's
 * blocks out of a coefficient ring, `haarLevel` runs one level of the Haar transform
 * along the group, `threshold` hard-thresholds and counts what is kept, `wiener`
 * applies the empirical Wiener shrinkage and returns ||W||^2, `accumulate` adds the
 * weighted blocks into the aggregation ring. `admit` lists the references whose
 * candidate beats their current worst match, so JavaScript only visits those. The JavaScript loops stay as the fallback
 * where WebAssembly SIMD is missing (tested to agree).
 */
import { f32Bytes, section, sleb, uleb, vec } from '../core/wasm-asm.js';

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32const: (v: number) => [0x41, ...sleb(v)],
  i32add: [0x6a],
  i32mul: [0x6c],
  i32load: [0x28, 0x02, 0x00],
  i32store: [0x36, 0x02, 0x00],
  i32ltS: [0x48],
  if: [0x04, 0x40],
  f32add: [0x92],
  f32const: (v: number) => [0x43, ...f32Bytes(v)],
  i32shl: [0x74],
  i32geU: [0x4f],
  load: (offset = 0) => [0xfd, 0x00, 0x00, ...uleb(offset)], // v128.load, align hint 1
  store: (offset = 0) => [0xfd, 0x0b, 0x00, ...uleb(offset)], // v128.store
  add: [0xfd, ...uleb(0xae)], // i32x4.add
  sub: [0xfd, ...uleb(0xb1)], // i32x4.sub
  mul: [0xfd, ...uleb(0xb5)], // i32x4.mul
  i32x4lane: (l: number) => [0xfd, ...uleb(0x1b), l], // i32x4.extract_lane
  f32x4lane: (l: number) => [0xfd, ...uleb(0x1f), l], // f32x4.extract_lane
  fsplat: [0xfd, ...uleb(0x13)], // f32x4.splat
  fabs: [0xfd, ...uleb(0xe0)],
  fadd: [0xfd, ...uleb(0xe4)],
  fsub: [0xfd, ...uleb(0xe5)],
  fmul: [0xfd, ...uleb(0xe6)],
  fdiv: [0xfd, ...uleb(0xe7)],
  fgt: [0xfd, ...uleb(0x44)], // f32x4.gt
  and: [0xfd, ...uleb(0x4e)], // v128.and
  zero: [0xfd, ...uleb(0x0c), ...new Array(16).fill(0)], // v128.const 0
};

/** `local += by` for each pointer local. */
function advance(locals: number[], by = 16): number[] {
  return locals.flatMap((l) => [...op.get(l), ...op.i32const(by), ...op.i32add, ...op.set(l)]);
}

/** end = p0 + 4 n, in local `end`. */
function endPointer(p0: number, n: number, end: number): number[] {
  return [...op.get(p0), ...op.get(n), ...op.i32const(2), ...op.i32shl, ...op.i32add, ...op.set(end)];
}

/** loop { if p0 >= end break; body; advance } */
function loopOver(p0: number, end: number, body: number[], pointers: number[], by = 16): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...op.get(p0),
    ...op.get(end),
    ...op.i32geU,
    ...op.brIf(1),
    ...body,
    ...advance(pointers, by),
    ...op.br(0),
    ...op.end,
    ...op.end,
  ];
}

/** (x - y)^2 of the vectors at the addresses in locals x and y, using v128 local t. */
function squaredDiff(x: number, y: number, t: number): number[] {
  return [...op.get(x), ...op.load(), ...op.get(y), ...op.load(), ...op.sub, ...op.tee(t), ...op.get(t), ...op.mul];
}

function body(locals: number[][], code: number[]): number[] {
  const b = [...vec(locals), ...code, ...op.end];
  return [...uleb(b.length), ...b];
}

function moduleBytes(): Uint8Array {
  // update(cs, a0, b0, a1, b1, n): cs[i] += (a1[i] - b1[i])^2 - (a0[i] - b0[i])^2; locals end = 6, t = 7
  const update = body(
    [
      [1, I32],
      [1, V128],
    ],
    [
      ...endPointer(0, 5, 6),
      ...loopOver(
        0,
        6,
        [...op.get(0), ...op.get(0), ...op.load(), ...squaredDiff(3, 4, 7), ...op.add, ...squaredDiff(1, 2, 7), ...op.sub, ...op.store()],
        [0, 1, 2, 3, 4],
      ),
    ],
  );
  // init(cs, a, b, n): cs[i] += (a[i] - b[i])^2; locals end = 4, t = 5
  const init = body(
    [
      [1, I32],
      [1, V128],
    ],
    [...endPointer(0, 3, 4), ...loopOver(0, 4, [...op.get(0), ...op.get(0), ...op.load(), ...squaredDiff(1, 2, 5), ...op.add, ...op.store()], [0, 1, 2])],
  );
  // rowSums(cs, s, n): s[i] = sum_{j < 8} cs[i + j]; local end = 3
  const sum8: number[] = [...op.get(1), ...op.get(0), ...op.load(0)];
  for (let j = 1; j < 8; j++) sum8.push(...op.get(0), ...op.load(4 * j), ...op.add);
  sum8.push(...op.store());
  const rowSums = body([[1, I32]], [...endPointer(1, 2, 3), ...loopOver(1, 3, sum8, [0, 1])]);

  // ---- collaborative filtering on blocks of 64 float32 (256 bytes)
  const BLOCK = 256;
  // gather(dst, ring, offs, count): block p = ring + offs[p] (byte offsets, int32) -> dst + 256 p; locals end = 4, src = 5
  const copyBlock: number[] = [];
  for (let j = 0; j < 16; j++) copyBlock.push(...op.get(0), ...op.get(5), ...op.load(16 * j), ...op.store(16 * j));
  const gather = body(
    [[2, I32]],
    [
      ...endPointer(2, 3, 4),
      ...loopOver(2, 4, [...op.get(1), ...op.get(2), ...op.i32load, ...op.i32add, ...op.set(5), ...copyBlock, ...advance([0], BLOCK)], [2], 4),
    ],
  );
  // haarLevel(g, count, h): for p = 0, 2h, 4h, ...: (a, b) = blocks p, p + h -> ((a + b) / sqrt2, (a - b) / sqrt2)
  // locals end = 3, a = 4, hb = 5, x = 6, y = 7, r = 8
  const butterflies: number[] = [];
  for (let j = 0; j < 16; j++) {
    const o = 16 * j;
    butterflies.push(
      ...op.get(4), ...op.load(o), ...op.set(6),
      ...op.get(4), ...op.get(5), ...op.i32add, ...op.load(o), ...op.set(7),
      ...op.get(4), ...op.get(6), ...op.get(7), ...op.fadd, ...op.get(8), ...op.fmul, ...op.store(o),
      ...op.get(4), ...op.get(5), ...op.i32add, ...op.get(6), ...op.get(7), ...op.fsub, ...op.get(8), ...op.fmul, ...op.store(o),
    );
  }
  const haarLevel = body(
    [
      [3, I32],
      [3, V128],
    ],
    [
      ...op.get(0), ...op.get(1), ...op.i32const(BLOCK), ...op.i32mul, ...op.i32add, ...op.set(3),
      ...op.get(0), ...op.set(4),
      ...op.get(2), ...op.i32const(BLOCK), ...op.i32mul, ...op.set(5),
      ...op.f32const(Math.SQRT1_2), ...op.fsplat, ...op.set(8),
      ...op.block, ...op.loop,
      ...op.get(4), ...op.get(3), ...op.i32geU, ...op.brIf(1),
      ...butterflies,
      // a += 2 h blocks
      ...op.get(4), ...op.get(5), ...op.i32add, ...op.get(5), ...op.i32add, ...op.set(4),
      ...op.br(0), ...op.end, ...op.end,
    ],
  );
  // threshold(g, n, thr) -> retained: zero |v| <= thr, count |v| > thr; locals end = 3, t = 4, cnt = 5, v = 6, m = 7
  const threshold = body(
    [
      [1, I32],
      [4, V128],
    ],
    [
      ...endPointer(0, 1, 3),
      ...op.get(2), ...op.fsplat, ...op.set(4),
      ...op.zero, ...op.set(5),
      ...loopOver(
        0,
        3,
        [
          ...op.get(0), ...op.load(), ...op.tee(6), ...op.fabs, ...op.get(4), ...op.fgt, ...op.set(7),
          ...op.get(0), ...op.get(6), ...op.get(7), ...op.and, ...op.store(),
          ...op.get(5), ...op.get(7), ...op.sub, ...op.set(5),
        ],
        [0],
      ),
      ...op.get(5), ...op.i32x4lane(0), ...op.get(5), ...op.i32x4lane(1), ...op.i32add,
      ...op.get(5), ...op.i32x4lane(2), ...op.i32add, ...op.get(5), ...op.i32x4lane(3), ...op.i32add,
    ],
  );
  // wiener(gn, gb, n, s2) -> sum of shrinkage^2: s = b^2 / (b^2 + s2), gn *= s; locals end = 4, S = 5, acc = 6, e = 7, sh = 8
  const wiener = body(
    [
      [1, I32],
      [4, V128],
    ],
    [
      ...endPointer(0, 2, 4),
      ...op.get(3), ...op.fsplat, ...op.set(5),
      ...op.zero, ...op.set(6),
      ...loopOver(
        0,
        4,
        [
          ...op.get(1), ...op.load(), ...op.tee(7), ...op.get(7), ...op.fmul, ...op.tee(7),
          ...op.get(7), ...op.get(5), ...op.fadd, ...op.fdiv, ...op.set(8),
          ...op.get(0), ...op.get(0), ...op.load(), ...op.get(8), ...op.fmul, ...op.store(),
          ...op.get(6), ...op.get(8), ...op.get(8), ...op.fmul, ...op.fadd, ...op.set(6),
        ],
        [0, 1],
      ),
      ...op.get(6), ...op.f32x4lane(0), ...op.get(6), ...op.f32x4lane(1), ...op.f32add,
      ...op.get(6), ...op.f32x4lane(2), ...op.f32add, ...op.get(6), ...op.f32x4lane(3), ...op.f32add,
    ],
  );
  // accumulate(acc, offs, count, g, w): acc + offs[p] += w * block p of g; locals end = 5, dst = 6, W = 7
  const addBlock: number[] = [];
  for (let j = 0; j < 16; j++) {
    const o = 16 * j;
    addBlock.push(...op.get(6), ...op.get(6), ...op.load(o), ...op.get(3), ...op.load(o), ...op.get(7), ...op.fmul, ...op.fadd, ...op.store(o));
  }
  const accumulate = body(
    [
      [2, I32],
      [1, V128],
    ],
    [
      ...endPointer(1, 2, 5),
      ...op.get(4), ...op.fsplat, ...op.set(7),
      ...loopOver(1, 5, [...op.get(0), ...op.get(1), ...op.i32load, ...op.i32add, ...op.set(6), ...addBlock, ...advance([3], BLOCK)], [1], 4),
    ],
  );

  // admit(s, xs, lims, n, out) -> count: for k < n, with x = xs[k] (int32) and d = s[x] (int32 at s + 4 x),
  // writes k to out[count++] where d < lims[k]. locals k = 5, cnt = 6, end = 7
  const admit = body(
    [[3, I32]],
    [
      ...op.i32const(0), ...op.set(6),
      ...endPointer(1, 3, 7),
      ...op.i32const(0), ...op.set(5),
      ...op.block, ...op.loop,
      ...op.get(1), ...op.get(7), ...op.i32geU, ...op.brIf(1),
      // d = load(s + 4 * load(xs))
      ...op.get(0), ...op.get(1), ...op.i32load, ...op.i32const(2), ...op.i32shl, ...op.i32add, ...op.i32load,
      ...op.get(2), ...op.i32load, ...op.i32ltS,
      ...op.if,
      ...op.get(4), ...op.get(6), ...op.i32const(2), ...op.i32shl, ...op.i32add, ...op.get(5), ...op.i32store,
      ...op.get(6), ...op.i32const(1), ...op.i32add, ...op.set(6),
      ...op.end,
      ...advance([1, 2], 4),
      ...op.get(5), ...op.i32const(1), ...op.i32add, ...op.set(5),
      ...op.br(0), ...op.end, ...op.end,
      ...op.get(6),
    ],
  );

  const type6 = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00];
  const type4 = [0x60, ...vec([[I32], [I32], [I32], [I32]]), 0x00];
  const type3 = [0x60, ...vec([[I32], [I32], [I32]]), 0x00];
  const typeThr = [0x60, ...vec([[I32], [I32], [F32]]), ...vec([[I32]])];
  const typeWie = [0x60, ...vec([[I32], [I32], [I32], [F32]]), ...vec([[F32]])];
  const typeAcc = [0x60, ...vec([[I32], [I32], [I32], [I32], [F32]]), 0x00];
  const typeAdmit = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])];
  const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type6, type4, type3, typeThr, typeWie, typeAcc, typeAdmit])),
    // import env.mem: memory with a minimum of 1 page
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [1], [2], [1], [2], [3], [4], [5], [6]])),
    ...section(
      7,
      vec([
        [...name('update'), 0x00, 0],
        [...name('init'), 0x00, 1],
        [...name('rowSums'), 0x00, 2],
        [...name('gather'), 0x00, 3],
        [...name('haarLevel'), 0x00, 4],
        [...name('threshold'), 0x00, 5],
        [...name('wiener'), 0x00, 6],
        [...name('accumulate'), 0x00, 7],
        [...name('admit'), 0x00, 8],
      ]),
    ),
    ...section(10, vec([update, init, rowSums, gather, haarLevel, threshold, wiener, accumulate, admit])),
  ];
  return Uint8Array.from(bytes);
}

/** The slice of the WebAssembly API used here (lib "dom" is not in this project's compiler settings). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export interface SimdKernel {
  /** int32 and float32 views of the whole memory */
  heap: Int32Array;
  heapF: Float32Array;
  update(cs: number, a0: number, b0: number, a1: number, b1: number, n: number): void;
  init(cs: number, a: number, b: number, n: number): void;
  rowSums(cs: number, s: number, n: number): void;
  gather(dst: number, ring: number, offs: number, count: number): void;
  haarLevel(g: number, count: number, h: number): void;
  threshold(g: number, n: number, thr: number): number;
  wiener(gn: number, gb: number, n: number, s2: number): number;
  accumulate(acc: number, offs: number, count: number, g: number, w: number): void;
  admit(s: number, xs: number, lims: number, n: number, out: number): number;
}

let compiled: object | null | undefined;

function compile(): object | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = moduleBytes();
    compiled = wasm && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether the SIMD kernel can run here (`HUSH_NO_SIMD=1` turns it off, for comparisons). */
export function simdAvailable(): boolean {
  if (typeof process === 'object' && process.env?.HUSH_NO_SIMD === '1') return false;
  return compile() !== null;
}

/**
 * An instance with at least `int32s` int32 slots of memory, or undefined where
 * WebAssembly SIMD is not available. Addresses passed to the functions are in bytes.
 */
export function simdKernel(int32s: number): SimdKernel | undefined {
  if (!simdAvailable()) return undefined;
  const mod = compile() as object;
  const api = wasm as WasmApi;
  const pages = Math.ceil((int32s * 4) / 65536) + 1;
  const mem = new api.Memory({ initial: pages });
  const inst = new api.Instance(mod, { env: { mem } });
  const e = inst.exports as unknown as Omit<SimdKernel, 'heap' | 'heapF'>;
  return {
    heap: new Int32Array(mem.buffer),
    heapF: new Float32Array(mem.buffer),
    update: e.update,
    init: e.init,
    rowSums: e.rowSums,
    gather: e.gather,
    haarLevel: e.haarLevel,
    threshold: e.threshold,
    wiener: e.wiener,
    accumulate: e.accumulate,
    admit: e.admit,
  };
}
