/**
 * The two collaborative-filtering stages of BM3D (Dabov et al., IEEE TIP 2007):
 * stage 1 groups noisy blocks, hard-thresholds their 3-D spectrum (2-D block
 * transform, then the 1-D Haar transform along the group) and aggregates the
 * estimates with a Kaiser window and weights 1 / (sigma^2 N_retained); stage 2 groups
 * again on the basic estimate and applies the empirical Wiener shrinkage
 * |B|^2 / (|B|^2 + sigma^2) of the basic estimate's spectrum to the noisy spectrum,
 * with weights 1 / (sigma^2 ||W||^2). Colour planes share the groups found on plane 0.
 *
 * For speed the 2-D transforms of all blocks are computed once per block row (a ring
 * of 2R + 1 rows, separable, the row transforms shared by the blocks above each
 * other), and the filtered blocks are summed in the transform domain per block
 * position and inverse-transformed once when no later reference can reach that
 * position (the Kaiser window and the inverse are linear, so this equals
 * aggregating every group member separately).
 */
import { matchBlocks, referencePositions } from './bm3d-match.js';
import { fastTransform8, haarGroupForward, haarGroupInverse, kaiserWindow, type BlockTransform, type Transform8 } from './bm3d-transforms.js';
import { simdKernel, type SimdKernel } from './bm3d-simd.js';

export interface StageParams {
  /** distance between reference blocks */
  step: number;
  /** half side of the search window */
  radius: number;
  /** largest group (a power of two) */
  maxGroup: number;
  /** mean squared difference per pixel below which a block joins a group, in squared plane units */
  tau: number;
  transform: BlockTransform;
  kaiserBeta: number;
  /** absolute coordinates of plane sample (0, 0), so reference grids of tiles line up with the whole image's */
  originX: number;
  originY: number;
}

/** Side of a block: the fast transforms are 8-point. */
const N = 8;
const NN = 64;

/**
 * The 2-D transforms of all blocks of a plane, one block row at a time, kept for the
 * last `rows` block rows (a ring); block (x, y) has its 64 coefficients, [v][u], at
 * data[((y % rows) * P + x) * 64].
 */
class CoefficientRing {
  readonly data: Float32Array;
  /** row transforms of the last 8 image rows, each stored twice (slots y % 8 and y % 8 + 8) so any 8 consecutive rows are contiguous */
  private readonly hbuf: Float32Array;
  private nextImageRow = 0;
  private nextBlockRow = 0;
  private readonly P: number;

  constructor(
    private readonly plane: Float32Array,
    private readonly width: number,
    private readonly forward: Transform8,
    readonly rows: number,
    /** storage of rows * (width - 7) * 64 floats */
    data: Float32Array,
    /** byte offset of `data` in the SIMD kernel's memory */
    readonly byteOffset: number,
  ) {
    this.P = width - N + 1;
    this.data = data;
    this.hbuf = new Float32Array(2 * N * this.P * N);
  }

  /** Computes block rows up to and including `last`. */
  advanceTo(last: number): void {
    const P = this.P;
    const f = this.forward;
    const hbuf = this.hbuf;
    const data = this.data;
    const plane = this.plane;
    const rowLen = P * N;
    while (this.nextBlockRow <= last) {
      const by = this.nextBlockRow;
      while (this.nextImageRow < by + N) {
        const y = this.nextImageRow++;
        const src = y * this.width;
        const d1 = (y % N) * rowLen;
        const d2 = d1 + N * rowLen;
        for (let x = 0; x < P; x++) {
          f(plane, src + x, 1, hbuf, d1 + x * N, 1);
          for (let u = 0; u < N; u++) hbuf[d2 + x * N + u] = hbuf[d1 + x * N + u];
        }
      }
      const out = (by % this.rows) * P * NN;
      const h0 = (by % N) * rowLen;
      for (let x = 0; x < P; x++) {
        const o = out + x * NN;
        const h = h0 + x * N;
        for (let u = 0; u < N; u++) f(hbuf, h + u, rowLen, data, o + u, N);
      }
      this.nextBlockRow++;
    }
  }
}

/**
 * Sums of filtered blocks in the transform domain, per block position, for the block
 * rows still reachable by a reference; `flushTo` inverse-transforms rows that no later
 * reference can reach and adds them, Kaiser-windowed, into numerator and denominator.
 */
class Aggregator {
  readonly acc: Float32Array;
  readonly weight: Float64Array;
  readonly numerator: Float64Array;
  /** total weight of each block position (y * P + x), Kaiser-spread into the denominator at the end */
  private readonly blockWeight: Float64Array;
  private flushed = 0;
  private live = -1;
  private readonly kaiser: Float64Array;
  private readonly kaiser2: Float64Array;
  private readonly height: number;
  private readonly tmp = new Float32Array(NN);
  private readonly P: number;

  constructor(
    private readonly width: number,
    height: number,
    private readonly inverse: Transform8,
    kaiserBeta: number,
    readonly rows: number,
    /** storage of rows * (width - 7) * 64 floats */
    acc: Float32Array,
    /** byte offset of `acc` in the SIMD kernel's memory */
    readonly byteOffset: number,
  ) {
    this.P = width - N + 1;
    this.acc = acc;
    this.weight = new Float64Array(rows * this.P);
    this.height = height;
    this.numerator = new Float64Array(width * height);
    this.blockWeight = new Float64Array(this.P * Math.max(0, height - N + 1));
    const k = kaiserWindow(N, kaiserBeta);
    this.kaiser = Float64Array.from(k);
    this.kaiser2 = new Float64Array(NN);
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) this.kaiser2[i * N + j] = k[i] * k[j];
  }

  /** Makes block rows up to `last` live (zeroed). Rows `rows` or more before must have been flushed. */
  open(last: number): void {
    const P = this.P;
    while (this.live < last) {
      const y = ++this.live;
      const slot = y % this.rows;
      this.acc.fill(0, slot * P * NN, (slot + 1) * P * NN);
      this.weight.fill(0, slot * P, (slot + 1) * P);
    }
  }

  /** Inverse-transforms and adds block rows below `end` (exclusive). */
  flushTo(end: number): void {
    const W = this.width;
    const P = this.P;
    const tmp = this.tmp;
    const k2 = this.kaiser2;
    const num = this.numerator;
    const bw = this.blockWeight;
    const acc = this.acc;
    const inv = this.inverse;
    const last = Math.min(end, this.live + 1);
    for (; this.flushed < last; this.flushed++) {
      const y = this.flushed;
      const slot = y % this.rows;
      for (let x = 0; x < P; x++) {
        const w = this.weight[slot * P + x];
        if (w === 0) continue;
        bw[y * P + x] = w;
        const c = (slot * P + x) * NN;
        for (let u = 0; u < N; u++) inv(acc, c + u, N, tmp, u, N);
        for (let i = 0; i < N; i++) inv(tmp, i * N, 1, tmp, i * N, 1);
        for (let i = 0; i < N; i++) {
          const row = (y + i) * W + x;
          for (let j = 0; j < N; j++) num[row + j] += k2[i * N + j] * tmp[i * N + j];
        }
      }
    }
  }

  /** Adds `w` to the weight of each group member's position. */
  addWeights(cells: Int32Array, count: number, w: number): void {
    for (let p = 0; p < count; p++) this.weight[cells[p]] += w;
  }

  /** Adds `w * group[p]` for each group member p at its cell (JavaScript path). */
  add(group: Float32Array, cells: Int32Array, count: number, w: number): void {
    const acc = this.acc;
    for (let p = 0; p < count; p++) {
      this.weight[cells[p]] += w;
      const o = cells[p] * NN;
      const g = p * NN;
      for (let k = 0; k < NN; k++) acc[o + k] += w * group[g + k];
    }
  }

  /**
   * numerator / denominator, the denominator being the block weights spread by the
   * (separable) Kaiser window: sum over blocks of w k[i] k[j] at (y + i, x + j).
   */
  result(out: Float32Array): void {
    const W = this.width;
    const P = this.P;
    const Q = this.height - N + 1;
    const k = this.kaiser;
    const bw = this.blockWeight;
    const rowSpread = new Float64Array(W);
    const den = new Float64Array(W * this.height);
    for (let y = 0; y < Q; y++) {
      rowSpread.fill(0);
      for (let x = 0; x < P; x++) {
        const w = bw[y * P + x];
        if (w === 0) continue;
        for (let j = 0; j < N; j++) rowSpread[x + j] += k[j] * w;
      }
      for (let i = 0; i < N; i++) {
        const ki = k[i];
        const o = (y + i) * W;
        for (let x = 0; x < W; x++) den[o + x] += ki * rowSpread[x];
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = this.numerator[i] / den[i];
  }
}

/** Ring cells (slot * P + x) of a group's members in a ring of `rows` block rows. */
function ringCells(width: number, rows: number, positions: Int32Array, base: number, count: number, cells: Int32Array): void {
  const P = width - N + 1;
  for (let p = 0; p < count; p++) {
    const q = positions[base + p];
    const y = (q / width) | 0;
    cells[p] = (y % rows) * P + q - y * width;
  }
}

function gather(ring: CoefficientRing, cells: Int32Array, count: number, group: Float32Array): void {
  const d = ring.data;
  for (let p = 0; p < count; p++) {
    const o = cells[p] * NN;
    const g = p * NN;
    for (let k = 0; k < NN; k++) group[g + k] = d[o + k];
  }
}

/**
 * Float32 buffers for a stage: inside one WebAssembly memory when the SIMD kernel is
 * available (then `bytes` are their byte offsets there), else ordinary arrays.
 */
function allocate(lengths: number[]): { simd: SimdKernel | undefined; views: Float32Array[]; bytes: number[] } {
  let total = 0;
  const offsets = lengths.map((n) => {
    const o = total;
    total += (n + 3) & ~3;
    return o;
  });
  let simd: SimdKernel | undefined;
  try {
    simd = simdKernel(total);
  } catch {
    // memory too large for a WebAssembly instance: plain arrays
    simd = undefined;
  }
  if (simd) {
    const heap = simd.heapF;
    return { simd, views: lengths.map((n, i) => heap.subarray(offsets[i], offsets[i] + n)), bytes: offsets.map((o) => 4 * o) };
  }
  return { simd: undefined, views: lengths.map((n) => new Float32Array(n)), bytes: lengths.map(() => 0) };
}

/** An int32 view of a float buffer from `allocate` (same memory), for byte offsets passed to the kernel. */
function int32View(simd: SimdKernel | undefined, view: Float32Array, byteOffset: number): Int32Array {
  return simd ? simd.heap.subarray(byteOffset / 4, byteOffset / 4 + view.length) : new Int32Array(view.length);
}

interface Plan {
  refX: Int32Array;
  refY: Int32Array;
  rows: number;
}

function plan(width: number, height: number, p: StageParams): Plan {
  return {
    refX: referencePositions(width, N, p.step, p.originX),
    refY: referencePositions(height, N, p.step, p.originY),
    rows: 2 * p.radius + 1,
  };
}

/**
 * Stage 1: the basic estimate of each plane. `sigmas[c]` is the noise standard deviation
 * of plane c, `lambda` the hard threshold in units of sigma. Groups are found on plane 0.
 */
export function hardThresholdStage(
  planes: readonly Float32Array[],
  width: number,
  height: number,
  sigmas: readonly number[],
  lambda: number,
  p: StageParams,
): Float32Array[] {
  const { refX, refY, rows } = plan(width, height, p);
  const matches = matchBlocks(planes[0], width, height, N, refX, refY, p.radius, p.maxGroup, p.tau);
  const t = fastTransform8(p.transform);
  const P = width - N + 1;
  const accRows = rows + p.step;
  const nc = planes.length;
  const K = p.maxGroup;
  const mem = allocate([...planes.map(() => rows * P * NN), ...planes.map(() => accRows * P * NN), K * NN, K, K]);
  const { simd, views, bytes } = mem;
  const rings = planes.map((pl, c) => new CoefficientRing(pl, width, t.forward, rows, views[c], bytes[c]));
  const aggs = planes.map((_, c) => new Aggregator(width, height, t.inverse, p.kaiserBeta, accRows, views[nc + c], bytes[nc + c]));
  const group = views[2 * nc];
  const gByte = bytes[2 * nc];
  const ringCell = new Int32Array(K);
  const accCell = new Int32Array(K);
  // byte offsets of the members in the rings, for the kernel
  const ringOff = int32View(simd, views[2 * nc + 1], bytes[2 * nc + 1]);
  const accOff = int32View(simd, views[2 * nc + 2], bytes[2 * nc + 2]);
  const ringByte = bytes[2 * nc + 1];
  const accByte = bytes[2 * nc + 2];
  const lastBlockRow = height - N;
  const positions = matches.positions;
  for (let j = 0; j < refY.length; j++) {
    const ry = refY[j];
    const top = Math.max(0, ry - p.radius);
    const bottom = Math.min(lastBlockRow, ry + p.radius);
    for (let c = 0; c < nc; c++) {
      aggs[c].flushTo(top);
      aggs[c].open(bottom);
      rings[c].advanceTo(bottom);
    }
    for (let i = 0; i < refX.length; i++) {
      const r = j * refX.length + i;
      const count = matches.count[r];
      const base = r * K;
      const len = count * NN;
      ringCells(width, rows, positions, base, count, ringCell);
      ringCells(width, accRows, positions, base, count, accCell);
      if (simd) {
        for (let k = 0; k < count; k++) {
          ringOff[k] = ringCell[k] * 4 * NN;
          accOff[k] = accCell[k] * 4 * NN;
        }
      }
      for (let c = 0; c < nc; c++) {
        const thr = lambda * sigmas[c];
        let retained = 0;
        if (simd) {
          simd.gather(gByte, rings[c].byteOffset, ringByte, count);
          for (let h = 1; h < count; h *= 2) simd.haarLevel(gByte, count, h);
          retained = simd.threshold(gByte, len, Math.fround(thr));
          for (let h = count >> 1; h >= 1; h >>= 1) simd.haarLevel(gByte, count, h);
          const w = retained > 0 ? 1 / (sigmas[c] * sigmas[c] * retained) : 1;
          simd.accumulate(aggs[c].byteOffset, accByte, count, gByte, w);
          aggs[c].addWeights(accCell, count, w);
          continue;
        }
        gather(rings[c], ringCell, count, group);
        haarGroupForward(group, count, NN);
        for (let k = 0; k < len; k++) {
          const v = group[k];
          if (v > thr || v < -thr) retained++;
          else group[k] = 0;
        }
        haarGroupInverse(group, count, NN);
        const w = retained > 0 ? 1 / (sigmas[c] * sigmas[c] * retained) : 1;
        aggs[c].add(group, accCell, count, w);
      }
    }
  }
  return aggs.map((a) => {
    a.flushTo(lastBlockRow + 1);
    const out = new Float32Array(width * height);
    a.result(out);
    return out;
  });
}

/** Stage 2: the final estimate, grouping on plane 0 of the basic estimate. */
export function wienerStage(
  noisy: readonly Float32Array[],
  basic: readonly Float32Array[],
  width: number,
  height: number,
  sigmas: readonly number[],
  p: StageParams,
): Float32Array[] {
  const { refX, refY, rows } = plan(width, height, p);
  const matches = matchBlocks(basic[0], width, height, N, refX, refY, p.radius, p.maxGroup, p.tau);
  const t = fastTransform8(p.transform);
  const P = width - N + 1;
  const accRows = rows + p.step;
  const nc = noisy.length;
  const K = p.maxGroup;
  const ringLen = rows * P * NN;
  const mem = allocate([
    ...noisy.map(() => ringLen),
    ...basic.map(() => ringLen),
    ...noisy.map(() => accRows * P * NN),
    K * NN,
    K * NN,
    K,
    K,
  ]);
  const { simd, views, bytes } = mem;
  const noisyRings = noisy.map((pl, c) => new CoefficientRing(pl, width, t.forward, rows, views[c], bytes[c]));
  const basicRings = basic.map((pl, c) => new CoefficientRing(pl, width, t.forward, rows, views[nc + c], bytes[nc + c]));
  const aggs = noisy.map((_, c) => new Aggregator(width, height, t.inverse, p.kaiserBeta, accRows, views[2 * nc + c], bytes[2 * nc + c]));
  const gn = views[3 * nc];
  const gb = views[3 * nc + 1];
  const gnByte = bytes[3 * nc];
  const gbByte = bytes[3 * nc + 1];
  const ringCell = new Int32Array(K);
  const accCell = new Int32Array(K);
  const ringOff = int32View(simd, views[3 * nc + 2], bytes[3 * nc + 2]);
  const accOff = int32View(simd, views[3 * nc + 3], bytes[3 * nc + 3]);
  const ringByte = bytes[3 * nc + 2];
  const accByte = bytes[3 * nc + 3];
  const lastBlockRow = height - N;
  const positions = matches.positions;
  for (let j = 0; j < refY.length; j++) {
    const ry = refY[j];
    const top = Math.max(0, ry - p.radius);
    const bottom = Math.min(lastBlockRow, ry + p.radius);
    for (let c = 0; c < nc; c++) {
      aggs[c].flushTo(top);
      aggs[c].open(bottom);
      noisyRings[c].advanceTo(bottom);
      basicRings[c].advanceTo(bottom);
    }
    for (let i = 0; i < refX.length; i++) {
      const r = j * refX.length + i;
      const count = matches.count[r];
      const base = r * K;
      const len = count * NN;
      ringCells(width, rows, positions, base, count, ringCell);
      ringCells(width, accRows, positions, base, count, accCell);
      if (simd) {
        for (let k = 0; k < count; k++) {
          ringOff[k] = ringCell[k] * 4 * NN;
          accOff[k] = accCell[k] * 4 * NN;
        }
      }
      for (let c = 0; c < nc; c++) {
        const s2 = sigmas[c] * sigmas[c];
        if (simd) {
          simd.gather(gnByte, noisyRings[c].byteOffset, ringByte, count);
          simd.gather(gbByte, basicRings[c].byteOffset, ringByte, count);
          for (let h = 1; h < count; h *= 2) {
            simd.haarLevel(gnByte, count, h);
            simd.haarLevel(gbByte, count, h);
          }
          const norm = simd.wiener(gnByte, gbByte, len, Math.fround(s2));
          for (let h = count >> 1; h >= 1; h >>= 1) simd.haarLevel(gnByte, count, h);
          const w = norm > 0 ? 1 / (s2 * norm) : 1;
          simd.accumulate(aggs[c].byteOffset, accByte, count, gnByte, w);
          aggs[c].addWeights(accCell, count, w);
          continue;
        }
        gather(noisyRings[c], ringCell, count, gn);
        gather(basicRings[c], ringCell, count, gb);
        haarGroupForward(gn, count, NN);
        haarGroupForward(gb, count, NN);
        let norm = 0;
        for (let k = 0; k < len; k++) {
          const e = gb[k] * gb[k];
          const s = e / (e + s2);
          gn[k] *= s;
          norm += s * s;
        }
        haarGroupInverse(gn, count, NN);
        const w = norm > 0 ? 1 / (s2 * norm) : 1;
        aggs[c].add(gn, accCell, count, w);
      }
    }
  }
  return aggs.map((a) => {
    a.flushTo(lastBlockRow + 1);
    const out = new Float32Array(width * height);
    a.result(out);
    return out;
  });
}
