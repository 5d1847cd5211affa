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

  const m = new Int32Array(image.length);
  for (let i = 0; i < m.length; i++) {
    const q = Math.round((image[i] - QCENTRE) * QUANT);
    m[i] = q > QMAX ? QMAX : q < QMIN ? QMIN : q;
  }
  // compared as doubles, so a threshold beyond int32 simply accepts every block
  const thr = Math.floor(tau * N * N * QUANT * QUANT);

  const dist = new Int32Array(nRefs * K);
  const pos = new Int32Array(nRefs * K);
  const cnt = new Uint8Array(nRefs);
  const worst = new Int32Array(nRefs);
  const worstSlot = new Uint8Array(nRefs);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const r = j * nx + i;
      pos[r * K] = refY[j] * W + refX[i];
      cnt[r] = 1;
    }
  }
  if (K === 1) return finish(dist, pos, cnt, nRefs, K);
  const refRow = new Int32Array(Q).fill(-1);
  for (let j = 0; j < ny; j++) refRow[refY[j]] = j;

  const insert = (r: number, d: number, p: number): void => {
    const c = cnt[r];
    const base = r * K;
    if (c < K) {
      dist[base + c] = d;
      pos[base + c] = p;
      cnt[r] = c + 1;
      if (c + 1 === K) rescan(r, base);
      return;
    }
    if (d >= worst[r]) return;
    const s = worstSlot[r];
    dist[base + s] = d;
    pos[base + s] = p;
    rescan(r, base);
  };
  const rescan = (r: number, base: number): void => {
    let w = -1;
    let ws = 0;
    for (let k = 0; k < K; k++) {
      if (dist[base + k] > w) {
        w = dist[base + k];
        ws = k;
      }
    }
    worst[r] = w;
    worstSlot[r] = ws;
  };

  const nd = 2 * radius + 1;
  // column sums of squared differences, one row of W per horizontal displacement dx + radius
  const cs = new Int32Array(nd * W);
  const srow = new Int32Array(P);
  for (let dy = 0; dy <= radius; dy++) {
    const pyMax = Q - 1 - dy;
    if (pyMax < 0) break;
    const dxFirst = dy === 0 ? 1 : -radius;
    for (let dx = dxFirst; dx <= radius; dx++) {
      const px0 = dx < 0 ? -dx : 0;
      const cx1 = (dx > 0 ? P - 1 - dx : P - 1) + N;
      const o = (dx + radius) * W;
      for (let x = px0; x < cx1; x++) cs[o + x] = 0;
      for (let i = 0; i < N; i++) {
        const a = i * W;
        const b = (i + dy) * W + dx;
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
        const o = (dx + radius) * W;
        if (ra >= 0 || rb >= 0) {
          let s = 0;
          for (let x = px0; x < px0 + N; x++) s += cs[o + x];
          srow[px0] = s;
          for (let x = px0 + 1; x <= px1; x++) {
            s += cs[o + x + N - 1] - cs[o + x - 1];
            srow[x] = s;
          }
          if (ra >= 0) {
            const rowBase = ra * nx;
            const cy = (py + dy) * W + dx;
            for (let i = 0; i < nx; i++) {
              const x = refX[i];
              if (x < px0 || x > px1) continue;
              const d = srow[x];
              if (d <= thr) insert(rowBase + i, d, cy + x);
            }
          }
          if (rb >= 0) {
            const rowBase = rb * nx;
            const cy = py * W - dx;
            for (let i = 0; i < nx; i++) {
              const x = refX[i] - dx;
              if (x < px0 || x > px1) continue;
              const d = srow[x];
              if (d <= thr) insert(rowBase + i, d, cy + refX[i]);
            }
          }
        }
        if (py < pyMax) {
          const b0 = (py + dy) * W + dx;
          const b1 = (py + N + dy) * W + dx;
          const cx1 = px1 + N;
          for (let x = px0; x < cx1; x++) {
            const d1 = m[a1 + x] - m[b1 + x];
            const d0 = m[a0 + x] - m[b0 + x];
            cs[o + x] += Math.imul(d1, d1) - Math.imul(d0, d0);
          }
        }
      }
    }
  }
  return finish(dist, pos, cnt, nRefs, K);
}

/**
 * Orders each reference's matches nearest first (the reference itself, at distance 0,
 * always first; ties by position, which is translation invariant), keeping the largest
 * power of two of them.
 */
function finish(dist: Int32Array, pos: Int32Array, cnt: Uint8Array, nRefs: number, K: number): BlockMatches {
  const positions = new Int32Array(nRefs * K);
  const count = new Uint8Array(nRefs);
  const od = new Int32Array(K);
  const op = new Int32Array(K);
  for (let r = 0; r < nRefs; r++) {
    const base = r * K;
    const c = cnt[r];
    // insertion sort of slots 1..c-1 (c <= 64)
    let n = 0;
    for (let k = 1; k < c; k++) {
      const d = dist[base + k];
      const p = pos[base + k];
      let j = n - 1;
      while (j >= 0 && (od[j] > d || (od[j] === d && op[j] > p))) {
        od[j + 1] = od[j];
        op[j + 1] = op[j];
        j--;
      }
      od[j + 1] = d;
      op[j + 1] = p;
      n++;
    }
    const keep = floorPow2(c);
    positions[base] = pos[base];
    for (let k = 1; k < keep; k++) positions[base + k] = op[k - 1];
    count[r] = keep;
  }
  return { positions, count, maxGroup: K };
}
