/**
 * Block matching for BM3D (Dabov et al., IEEE TIP 2007, section III-A): for every
 * reference block on the processing grid, the up-to-K blocks of its search window
 * with the smallest normalised squared distance, among those below tau_match, the
 * reference itself first. Exhaustive search in the window, done offset by offset
 * (Lebrun's IPOL implementation, 2012): for one displacement o, the block distances
 * ||B(p) - B(p + o)||^2 of all positions p come from running column and row sums of
 * the squared-difference image, and each one serves two references (p for candidate
 * p + o, and p + o for candidate p), so the cost is about 6 operations per pixel and
 * per half-window offset, whatever the block size.
 *
 * The matching image is quantised to 1/4 of its unit (clamped to -384..639 on the
 * 0..255 scale) and the sums are int32, so they are exact: the matches of a reference
 * never depend on where the running sums started, which is what makes tiled runs
 * equal untiled ones bit for bit. The loops run one vertical displacement at a time
 * with the column sums of every horizontal displacement side by side, so each image
 * row is read once per vertical displacement and stays in cache.
 */

import { simdKernel } from './bm3d-simd.js';

/** Result of matchBlocks: for reference r, `count[r]` positions (y * width + x) at `positions[r * maxGroup ...]`, nearest first. */
export interface BlockMatches {
  positions: Int32Array;
  count: Uint8Array;
  maxGroup: number;
}

/** Fixed-point scale of the matching image (distances are in units of 1/QUANT^2). */
const QUANT = 4;
/** Quantised values are clamped to [-2^11, 2^11) so that 64 squared differences stay below 2^31. */
const QMAX = 2047;
const QMIN = -2048;
/** centre of the 0..255 scale, so the clamp range is symmetric around mid-grey */
const QCENTRE = 127.5;

/** Largest power of two <= n (n >= 1). */
export function floorPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * Reference positions along one axis of length n (n >= block): every position whose
 * absolute coordinate (origin + k) is a multiple of `step`, plus the last position
 * n - block so the far border is covered.
 */
export function referencePositions(n: number, block: number, step: number, origin: number): Int32Array {
  const last = n - block;
  const out: number[] = [];
  const first = (((step - (origin % step)) % step) + step) % step;
  for (let k = first; k <= last; k += step) out.push(k);
  if (out.length === 0 || out[out.length - 1] !== last) out.push(last);
  return Int32Array.from(out);
}

/**
 * Matches for the references refY x refX (row-major) in `image` (width x height), blocks
 * of `block` x `block`, search window of half-size `radius` around each reference (clipped
 * to the image), at most `maxGroup` matches (rounded down to a power of two) whose mean
 * squared difference per pixel is at most `tau`.
 */
export function matchBlocks(
  image: Float32Array,
  width: number,
  height: number,
  block: number,
  refX: Int32Array,
  refY: Int32Array,
  radius: number,
  maxGroup: number,
  tau: number,
): BlockMatches {
  const W = width;
  const N = block;
  const P = W - N + 1;
  const Q = height - N + 1;
  const K = maxGroup;
  const nx = refX.length;
  const ny = refY.length;
  const nRefs = nx * ny;

  const nd = 2 * radius + 1;
  // with WebAssembly SIMD the image, the column sums and the row sums live in its memory
  const csStride = W + 8;
  const mLen = image.length + 8;
  const csOff = mLen;
  const srowOff = csOff + nd * csStride;
  // for the SIMD path: reference columns, admission limits and the admitted list
  const refXOff = srowOff + P + 8;
  const limOff = refXOff + nx;
  const admittedOff = limOff + nRefs;
  const simd = simdKernel(admittedOff + nx);
  const m = simd ? simd.heap.subarray(0, mLen) : new Int32Array(mLen);
  for (let i = 0; i < image.length; i++) {
    const q = Math.round((image[i] - QCENTRE) * QUANT);
    m[i] = q > QMAX ? QMAX : q < QMIN ? QMIN : q;
  }
  // distances stay below 2^30, so a threshold clamped below 2^31 accepts every block
  const thr = Math.min(Math.floor(tau * N * N * QUANT * QUANT), 2 ** 31 - 2);

  // the reference itself is always in its group; the other candidates compete for K - 1
  // places per reference, kept as a max-heap on (distance, position) once full
  const H1 = Math.max(1, K - 1);
  const dist = new Int32Array(nRefs * H1);
  const pos = new Int32Array(nRefs * H1);
  const cnt = new Uint8Array(nRefs);
  // a candidate is taken when its distance is below lim[r]: thr + 1 until full, then the largest distance held
  const lim = simd ? simd.heap.subarray(limOff, limOff + nRefs) : new Int32Array(nRefs);
  lim.fill(K > 1 ? thr + 1 : 0);
  if (simd) simd.heap.set(refX, refXOff);
  const refPos = new Int32Array(nRefs);
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) refPos[j * nx + i] = refY[j] * W + refX[i];

  /** Sifts the entry at heap index k of the heap at `base` down (max-heap on (distance, position)). */
  const siftDown = (base: number, k: number): void => {
    const d = dist[base + k];
    const p = pos[base + k];
    for (;;) {
      let c = 2 * k + 1;
      if (c >= H1) break;
      const c2 = c + 1;
      if (c2 < H1) {
        const dc = dist[base + c];
        const dc2 = dist[base + c2];
        if (dc2 > dc || (dc2 === dc && pos[base + c2] > pos[base + c])) c = c2;
      }
      const dc = dist[base + c];
      if (dc < d || (dc === d && pos[base + c] < p)) break;
      dist[base + k] = dc;
      pos[base + k] = pos[base + c];
      k = c;
    }
    dist[base + k] = d;
    pos[base + k] = p;
  };
  const insert = (r: number, d: number, p: number): void => {
    const base = r * H1;
    const c = cnt[r];
    if (c < H1) {
      dist[base + c] = d;
      pos[base + c] = p;
      cnt[r] = c + 1;
      if (c + 1 === H1) {
        for (let k = (H1 >> 1) - 1; k >= 0; k--) siftDown(base, k);
        lim[r] = dist[base];
      }
      return;
    }
    dist[base] = d;
    pos[base] = p;
    siftDown(base, 0);
    lim[r] = dist[base];
  };
  if (K === 1) return finish(refPos, dist, pos, cnt, nRefs, K);
  const refRow = new Int32Array(Q).fill(-1);
  for (let j = 0; j < ny; j++) refRow[refY[j]] = j;
  // refLo[x]: first reference column >= x; refHi[x]: one past the last reference column <= x
  const refLo = new Int32Array(P + 1);
  const refHi = new Int32Array(P + 1);
  for (let x = 0, i = 0; x <= P; x++) {
    while (i < nx && refX[i] < x) i++;
    refLo[x] = i;
  }
  for (let x = 0, i = 0; x < P; x++) {
    while (i < nx && refX[i] <= x) i++;
    refHi[x] = i;
  }

  // column sums of squared differences, one row per horizontal displacement dx + radius
  const heap = simd ? simd.heap : new Int32Array(srowOff + P + 8);
  const admitted = simd ? simd.heap.subarray(admittedOff, admittedOff + nx) : new Int32Array(0);
  const cs = heap;
  const srow = heap;
  for (let dy = 0; dy <= radius; dy++) {
    const pyMax = Q - 1 - dy;
    if (pyMax < 0) break;
    const dxFirst = dy === 0 ? 1 : -radius;
    for (let dx = dxFirst; dx <= radius; dx++) {
      const px0 = dx < 0 ? -dx : 0;
      const cx1 = (dx > 0 ? P - 1 - dx : P - 1) + N;
      const o = csOff + (dx + radius) * csStride;
      cs.fill(0, o + px0, o + cx1);
      for (let i = 0; i < N; i++) {
        const a = i * W;
        const b = (i + dy) * W + dx;
        if (simd) {
          simd.init(4 * (o + px0), 4 * (a + px0), 4 * (b + px0), cx1 - px0);
          continue;
        }
        for (let x = px0; x < cx1; x++) {
          const d = m[a + x] - m[b + x];
          cs[o + x] += Math.imul(d, d);
        }
      }
    }
    for (let py = 0; py <= pyMax; py++) {
      const ra = refRow[py];
      const rb = refRow[py + dy];
      const a0 = py * W;
      const a1 = (py + N) * W;
      for (let dx = dxFirst; dx <= radius; dx++) {
        const px0 = dx < 0 ? -dx : 0;
        const px1 = dx > 0 ? P - 1 - dx : P - 1;
        if (px1 < px0) continue;
        const o = csOff + (dx + radius) * csStride;
        if (ra >= 0 || rb >= 0) {
          if (simd) {
            simd.rowSums(4 * (o + px0), 4 * (srowOff + px0), px1 - px0 + 1);
          } else {
            let s = 0;
            for (let x = px0; x < px0 + N; x++) s += cs[o + x];
            srow[srowOff + px0] = s;
            for (let x = px0 + 1; x <= px1; x++) {
              s += cs[o + x + N - 1] - cs[o + x - 1];
              srow[srowOff + x] = s;
            }
          }
          if (simd) {
            // the kernel lists the references whose candidate beats their limit; only those are inserted
            if (ra >= 0) {
              const rowBase = ra * nx;
              const cy = (py + dy) * W + dx;
              const i0 = refLo[px0];
              const n = simd.admit(4 * srowOff, 4 * (refXOff + i0), 4 * (limOff + rowBase + i0), refHi[px1] - i0, 4 * admittedOff);
              for (let k = 0; k < n; k++) {
                const i = i0 + admitted[k];
                const x = refX[i];
                insert(rowBase + i, srow[srowOff + x], cy + x);
              }
            }
            if (rb >= 0) {
              const rowBase = rb * nx;
              const cy = py * W - dx;
              const i0 = refLo[px0 + dx];
              const sOff = srowOff - dx;
              const n = simd.admit(4 * sOff, 4 * (refXOff + i0), 4 * (limOff + rowBase + i0), refHi[px1 + dx] - i0, 4 * admittedOff);
              for (let k = 0; k < n; k++) {
                const i = i0 + admitted[k];
                const x = refX[i];
                insert(rowBase + i, srow[sOff + x], cy + x);
              }
            }
          }
          // references whose candidate at +(dx, dy) exists: refX in [px0, px1]
          if (!simd && ra >= 0) {
            const rowBase = ra * nx;
            const cy = (py + dy) * W + dx;
            const i1 = refHi[px1];
            for (let i = refLo[px0]; i < i1; i++) {
              const x = refX[i];
              const d = srow[srowOff + x];
              if (d < lim[rowBase + i]) insert(rowBase + i, d, cy + x);
            }
          }
          // references whose candidate at -(dx, dy) exists: refX - dx in [px0, px1]
          if (!simd && rb >= 0) {
            const rowBase = rb * nx;
            const cy = py * W - dx;
            const i1 = refHi[px1 + dx];
            const sOff = srowOff - dx;
            for (let i = refLo[px0 + dx]; i < i1; i++) {
              const x = refX[i];
              const d = srow[sOff + x];
              if (d < lim[rowBase + i]) insert(rowBase + i, d, cy + x);
            }
          }
        }
        if (py < pyMax) {
          const b0 = (py + dy) * W + dx;
          const b1 = (py + N + dy) * W + dx;
          const cx1 = px1 + N;
          if (simd) {
            simd.update(4 * (o + px0), 4 * (a0 + px0), 4 * (b0 + px0), 4 * (a1 + px0), 4 * (b1 + px0), cx1 - px0);
            continue;
          }
          for (let x = px0; x < cx1; x++) {
            const d1 = m[a1 + x] - m[b1 + x];
            const d0 = m[a0 + x] - m[b0 + x];
            cs[o + x] += Math.imul(d1, d1) - Math.imul(d0, d0);
          }
        }
      }
    }
  }
  return finish(refPos, dist, pos, cnt, nRefs, K);
}

/**
 * Orders each reference's matches nearest first (the reference itself always first; ties
 * by position, which is translation invariant), keeping the largest power of two of them.
 */
function finish(refPos: Int32Array, dist: Int32Array, pos: Int32Array, cnt: Uint8Array, nRefs: number, K: number): BlockMatches {
  const H1 = Math.max(1, K - 1);
  const positions = new Int32Array(nRefs * K);
  const count = new Uint8Array(nRefs);
  const od = new Int32Array(H1);
  const op = new Int32Array(H1);
  for (let r = 0; r < nRefs; r++) {
    const base = r * H1;
    const c = K > 1 ? cnt[r] : 0;
    // insertion sort (c < 64)
    for (let k = 0; k < c; k++) {
      const d = dist[base + k];
      const p = pos[base + k];
      let j = k - 1;
      while (j >= 0 && (od[j] > d || (od[j] === d && op[j] > p))) {
        od[j + 1] = od[j];
        op[j + 1] = op[j];
        j--;
      }
      od[j + 1] = d;
      op[j + 1] = p;
    }
    const keep = floorPow2(c + 1);
    const out = r * K;
    positions[out] = refPos[r];
    for (let k = 1; k < keep; k++) positions[out + k] = op[k - 1];
    count[r] = keep;
  }
  return { positions, count, maxGroup: K };
}
