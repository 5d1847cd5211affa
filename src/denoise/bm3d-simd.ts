/**
 * The two innermost loops of BM3D's block matching as a tiny WebAssembly module with
 * 128-bit SIMD (four int32 lanes), assembled here byte by byte so there is no build
 * step and no dependency: `update` slides the column sums of squared differences one
 * row down, `init` adds one row to them, `rowSums` forms the 8-wide horizontal sums.
 * They are exact integer versions of the JavaScript loops in bm3d-match.ts, which
 * stay as the fallback where WebAssembly SIMD is missing (tested to agree).
 */

/** Unsigned LEB128. */
function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...u32(d)],
  brIf: (d: number) => [0x0d, ...u32(d)],
  get: (i: number) => [0x20, ...u32(i)],
  set: (i: number) => [0x21, ...u32(i)],
  tee: (i: number) => [0x22, ...u32(i)],
  i32const: (v: number) => [0x41, ...u32(v)], // small non-negative values only
  i32add: [0x6a],
  i32shl: [0x74],
  i32geU: [0x4f],
  load: (offset = 0) => [0xfd, 0x00, 0x00, ...u32(offset)], // v128.load, align hint 1
  store: [0xfd, 0x0b, 0x00, 0x00], // v128.store
  add: [0xfd, ...u32(0xae)], // i32x4.add
  sub: [0xfd, ...u32(0xb1)], // i32x4.sub
  mul: [0xfd, ...u32(0xb5)], // i32x4.mul
};

/** `local += 16` for each pointer local. */
function advance(locals: number[]): number[] {
  return locals.flatMap((l) => [...op.get(l), ...op.i32const(16), ...op.i32add, ...op.set(l)]);
}

/** end = p0 + 4 n, in local `end`. */
function endPointer(p0: number, n: number, end: number): number[] {
  return [...op.get(p0), ...op.get(n), ...op.i32const(2), ...op.i32shl, ...op.i32add, ...op.set(end)];
}

/** loop { if p0 >= end break; body; advance } */
function loopOver(p0: number, end: number, body: number[], pointers: number[]): number[] {
  return [
    ...op.block,
    ...op.loop,
    ...op.get(p0),
    ...op.get(end),
    ...op.i32geU,
    ...op.brIf(1),
    ...body,
    ...advance(pointers),
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
  return [...u32(b.length), ...b];
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
        [...op.get(0), ...op.get(0), ...op.load(), ...squaredDiff(3, 4, 7), ...op.add, ...squaredDiff(1, 2, 7), ...op.sub, ...op.store],
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
    [...endPointer(0, 3, 4), ...loopOver(0, 4, [...op.get(0), ...op.get(0), ...op.load(), ...squaredDiff(1, 2, 5), ...op.add, ...op.store], [0, 1, 2])],
  );
  // rowSums(cs, s, n): s[i] = sum_{j < 8} cs[i + j]; local end = 3
  const sum8: number[] = [...op.get(1), ...op.get(0), ...op.load(0)];
  for (let j = 1; j < 8; j++) sum8.push(...op.get(0), ...op.load(4 * j), ...op.add);
  sum8.push(...op.store);
  const rowSums = body([[1, I32]], [...endPointer(1, 2, 3), ...loopOver(1, 3, sum8, [0, 1])]);

  const type6 = [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0x00];
  const type4 = [0x60, ...vec([[I32], [I32], [I32], [I32]]), 0x00];
  const type3 = [0x60, ...vec([[I32], [I32], [I32]]), 0x00];
  const name = (s: string): number[] => vec([...s].map((c) => [c.charCodeAt(0)]));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type6, type4, type3])),
    // import env.mem: memory with a minimum of 1 page
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [1], [2]])),
    ...section(
      7,
      vec([
        [...name('update'), 0x00, 0],
        [...name('init'), 0x00, 1],
        [...name('rowSums'), 0x00, 2],
      ]),
    ),
    ...section(10, vec([update, init, rowSums])),
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
  /** int32 view of the whole memory */
  heap: Int32Array;
  update(cs: number, a0: number, b0: number, a1: number, b1: number, n: number): void;
  init(cs: number, a: number, b: number, n: number): void;
  rowSums(cs: number, s: number, n: number): void;
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
  const e = inst.exports as unknown as Omit<SimdKernel, 'heap'>;
  return { heap: new Int32Array(mem.buffer), update: e.update, init: e.init, rowSums: e.rowSums };
}
