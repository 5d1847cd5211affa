/**
 * A small WebAssembly assembler, shared by the SIMD kernels that are written as stack
 * programs in TypeScript and assembled byte by byte at run time (no toolchain, no
 * build step, no binary blob): LEB128 and constant encodings, sections, a function
 * body builder with named locals, the opcode tables the kernels use, a module builder
 * (one imported memory, plain or shared), and the compile / instantiate / kept-memory
 * plumbing. Opcode numbers follow the WebAssembly core specification 2.0 (SIMD
 * opcodes are the LEB128 numbers after the 0xfd prefix).
 */

/** Unsigned LEB128. */
export function uleb(v: number): number[] {
  const out: number[] = [];
  let n = v >>> 0;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer (i32.const). */
export function sleb(v: number): number[] {
  const out: number[] = [];
  let n = v | 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Little-endian bytes of a float32 (the value rounded to float32). */
export function f32Bytes(v: number): number[] {
  return Array.from(new Uint8Array(Float32Array.of(v).buffer));
}

/** Little-endian bytes of a float64. */
export function f64Bytes(v: number): number[] {
  return Array.from(new Uint8Array(Float64Array.of(v).buffer));
}

/** A name: its length and its (ASCII) bytes. */
export function str(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
}

/** A vector: its length and the items' bytes. */
export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A section: id, byte length, body. */
export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
export const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Core opcodes (memory instructions with their natural alignment hint and offset 0). */
export const OP = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (d: number): number[] => [0x0c, ...uleb(d)],
  brIf: (d: number): number[] => [0x0d, ...uleb(d)],
  return: [0x0f],
  drop: [0x1a],
  select: [0x1b],
  i32Load: [0x28, 0x02, 0x00],
  f32Load: [0x2a, 0x02, 0x00],
  f64Load: [0x2b, 0x03, 0x00],
  i32Store: [0x36, 0x02, 0x00],
  f32Store: [0x38, 0x02, 0x00],
  f64Store: [0x39, 0x03, 0x00],
  i32Eqz: [0x45],
  i32Eq: [0x46],
  i32Ne: [0x47],
  i32LtS: [0x48],
  i32LtU: [0x49],
  i32GtS: [0x4a],
  i32GeS: [0x4e],
  i32GeU: [0x4f],
  f32Eq: [0x5b],
  f32Lt: [0x5d],
  f32Gt: [0x5e],
  f32Ge: [0x60],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrS: [0x75],
  f32Abs: [0x8b],
  f32Neg: [0x8c],
  f32Sqrt: [0x91],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f32Div: [0x95],
  f32Max: [0x97],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f32DemoteF64: [0xb6],
  f64PromoteF32: [0xbb],
} as const;

/** SIMD opcodes, the number after the 0xfd prefix. */
export const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  f32x4Splat: 0x13,
  f64x2Splat: 0x14,
  f32x4Extract: 0x1f,
  f64x2Extract: 0x21,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Ge: 0x46,
  not: 0x4d,
  and: 0x4e,
  andNot: 0x4f,
  or: 0x50,
  bitselect: 0x52,
  f64x2PromoteLowF32x4: 0x5f,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  f64x2Add: 0xf0,
  f64x2Mul: 0xf2,
} as const;

/** A function body written as a stack program, with named parameters and locals. */
export class Body {
  readonly code: number[] = [];
  private readonly names = new Map<string, number>();
  private readonly localTypes: ValType[] = [];
  constructor(
    readonly params: readonly [string, ValType][],
    readonly results: readonly ValType[] = [],
  ) {
    params.forEach(([n], i) => this.names.set(n, i));
  }
  /** declares locals of one type */
  local(type: ValType, ...names: string[]): this {
    for (const name of names) {
      if (this.names.has(name)) throw new Error(`wasm-asm: local ${name} declared twice`);
      this.names.set(name, this.params.length + this.localTypes.length);
      this.localTypes.push(type);
    }
    return this;
  }
  private idx(name: string): number {
    const i = this.names.get(name);
    if (i === undefined) throw new Error(`wasm-asm: no local ${name}`);
    return i;
  }
  get(...names: string[]): this {
    for (const n of names) this.code.push(0x20, ...uleb(this.idx(n)));
    return this;
  }
  set(name: string): this {
    this.code.push(0x21, ...uleb(this.idx(name)));
    return this;
  }
  tee(name: string): this {
    this.code.push(0x22, ...uleb(this.idx(name)));
    return this;
  }
  i32(v: number): this {
    this.code.push(0x41, ...sleb(v));
    return this;
  }
  f32(v: number): this {
    this.code.push(0x43, ...f32Bytes(v));
    return this;
  }
  f64(v: number): this {
    this.code.push(0x44, ...f64Bytes(v));
    return this;
  }
  op(...bytes: readonly number[]): this {
    this.code.push(...bytes);
    return this;
  }
  /** a SIMD instruction and its immediates */
  simd(opcode: number, ...imm: number[]): this {
    this.code.push(0xfd, ...uleb(opcode), ...imm);
    return this;
  }
  /** v128.load / v128.store (alignment hint 1, so any address is fine) at a constant offset */
  vload(offset = 0): this {
    return this.simd(SIMD.load, 0, ...uleb(offset));
  }
  vstore(offset = 0): this {
    return this.simd(SIMD.store, 0, ...uleb(offset));
  }
  /** v128.load32_splat: one float32 from memory into all four lanes */
  vsplat32(offset = 0): this {
    return this.simd(SIMD.load32Splat, 0, ...uleb(offset));
  }
  /** f32.load / f32.store at a constant offset (alignment hint 4) */
  fload(offset = 0): this {
    return this.op(0x2a, 0x02, ...uleb(offset));
  }
  fstore(offset = 0): this {
    return this.op(0x38, 0x02, ...uleb(offset));
  }
  /** i8x16.shuffle with lane indices of 32-bit lanes (0-3 from the first operand, 4-7 from the second) */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    return this.simd(SIMD.shuffle, ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]));
  }
  /** `local = local + v` for i32 locals */
  addTo(name: string, v: number): this {
    return this.get(name).i32(v).op(...OP.i32Add).set(name);
  }
  /** while the i32 pushed by `test` is zero: body (the test runs first) */
  loopUntil(test: () => void, body: () => void): this {
    this.op(...OP.block, ...OP.loop);
    test();
    this.op(...OP.brIf(1));
    body();
    this.op(...OP.br(0), ...OP.end, ...OP.end);
    return this;
  }
  /** if the i32 pushed by `cond` is nonzero: then */
  ifThen(cond: () => void, then: () => void): this {
    cond();
    this.op(...OP.if);
    then();
    this.op(...OP.end);
    return this;
  }
  /** the encoded body (locals and code), with its byte length in front */
  encode(): number[] {
    const groups: number[][] = this.localTypes.map((t) => [1, VALTYPE[t]]);
    const b = [...vec(groups), ...this.code, ...OP.end];
    return [...uleb(b.length), ...b];
  }
}

export interface ModuleSpec {
  /** exported functions, in order */
  functions: { name: string; body: Body }[];
  /** the imported memory env.memory: at least this many 64 KiB pages; shared memories need a maximum */
  memory: { minPages: number; maxPages?: number; shared?: boolean };
}

/** The bytes of a module that imports `env.memory` and exports the given functions. */
export function assembleModule(spec: ModuleSpec): Uint8Array {
  const sigs: string[] = [];
  const typeOf: number[] = [];
  const types: number[][] = [];
  for (const { body } of spec.functions) {
    const sig = [0x60, ...vec(body.params.map(([, t]) => [VALTYPE[t]])), ...vec(body.results.map((t) => [VALTYPE[t]]))];
    const key = sig.join(',');
    let at = sigs.indexOf(key);
    if (at < 0) {
      at = sigs.length;
      sigs.push(key);
      types.push(sig);
    }
    typeOf.push(at);
  }
  const { minPages, maxPages, shared } = spec.memory;
  if (shared && maxPages === undefined) throw new Error('wasm-asm: a shared memory needs maxPages');
  const flags = (maxPages === undefined ? 0 : 1) | (shared ? 2 : 0);
  const limits = [flags, ...uleb(minPages), ...(maxPages === undefined ? [] : uleb(maxPages))];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]])),
    ...section(3, vec(typeOf.map((t) => uleb(t)))),
    ...section(7, vec(spec.functions.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(spec.functions.map((f) => f.body.encode()))),
  ];
  return Uint8Array.from(bytes);
}

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Whether SIMD kernels may run: `HUSH_NO_SIMD=1` turns them off (to compare with, or to test, the JavaScript paths). */
export function simdAllowed(): boolean {
  return !(typeof process === 'object' && process.env?.HUSH_NO_SIMD === '1');
}

/** Compiles module bytes; null where WebAssembly (or an instruction it uses, e.g. SIMD) is not supported. */
export function compileModule(bytes: Uint8Array): object | null {
  try {
    return wasm && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  } catch {
    return null;
  }
}

export const WASM_PAGE = 65536;

/** A new memory of `pages` pages; shared ones (for worker threads) cannot grow past `pages`. */
export function newMemory(pages: number, shared = false): WasmMemory {
  if (!wasm) throw new Error('wasm-asm: no WebAssembly');
  return shared ? new wasm.Memory({ initial: pages, maximum: pages, shared: true }) : new wasm.Memory({ initial: pages });
}

/** Instantiates a compiled module on a memory; returns its exports. */
export function instantiate<T>(module: object, memory: WasmMemory): T {
  if (!wasm) throw new Error('wasm-asm: no WebAssembly');
  return new wasm.Instance(module, { env: { memory } }).exports as T;
}

/**
 * One memory per thread and purpose, kept between calls up to `keepBytes` and grown
 * when a call needs more, sparing the page faults of fresh memory (costly on small
 * VMs). `take(bytes)` returns the memory and whether it is new (then instances must
 * be made again; a grown memory keeps its instances but its buffer changes).
 */
export class KeptMemory {
  private memory: WasmMemory | undefined;
  private pages = 0;
  constructor(private readonly keepBytes = 256 * 2 ** 20) {}
  take(bytes: number): { memory: WasmMemory; fresh: boolean } {
    const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
    if (this.memory && this.pages >= pages) return { memory: this.memory, fresh: false };
    if (this.memory && bytes <= this.keepBytes) {
      this.memory.grow(pages - this.pages);
      this.pages = pages;
      return { memory: this.memory, fresh: false };
    }
    const memory = newMemory(pages);
    if (bytes <= this.keepBytes) {
      this.memory = memory;
      this.pages = pages;
    }
    return { memory, fresh: true };
  }
}
