/**
 * The inner loops of wavelet shrinkage (wavelet.ts) in float32 WebAssembly SIMD, four
 * samples per instruction, assembled by core/wasm-asm.ts: one level of the 2-D
 * analysis (pywt's downsampling convolution in mode 'symmetric', along axis 0 then
 * axis 1), one level of the synthesis (upsampling convolution, axis 1 then axis 0),
 * the sum of squares of a subband and soft / hard thresholding in place. Every output
 * sample sums its terms in pywt's order (wavelet-transform.ts's plans), in float32,
 * as pywt does on float32 data.
 *
 * Vector loops over a row that is not a multiple of 4 long end with one vector that
 * overlaps the previous one (the same outputs computed again from the same inputs),
 * so they need at least 4 outputs; `simdEligible` says when a plane's every level has
 * them, and wavelet.ts runs the float64 JavaScript path otherwise (tiny planes).
 */
import { Body, KeptMemory, OP, SIMD, WASM_PAGE, assembleModule, compileModule, instantiate, newMemory, simdAllowed, type WasmMemory } from '../core/wasm-asm.js';
import { analysisPlan, dwtLength, idwtLength, type FilterBank } from './wavelet-transform.js';

export interface WaveletKernels {
  /**
   * Axis-0 analysis of one level, all output rows: `tab` is, per output row, an i32
   * count and `count` terms (f32 low-pass tap, f32 high-pass tap, i32 address of the
   * input row); each output row of `width` samples goes to lo and hi, rows one after another.
   */
  anaCols(tab: number, rows: number, lo: number, hi: number, width: number): void;
  /**
   * Axis-1 analysis of `rows` rows of n samples into rows of nOut: outputs
   * [cs, cs + cc) by the centre form (taps 0..F-1 on inputs 1 + 2o - j; needs cc >= 4
   * or cc = 0), the others from the byte stream [btab, btabEnd) of (i32 output, i32
   * count, count x (f32 low tap, f32 high tap, i32 byte offset in the row)). `taps`
   * holds F pairs (low, high) of float32.
   */
  anaRows(src: number, lo: number, hi: number, rows: number, n: number, nOut: number, cs: number, cc: number, taps: number, F: number, btab: number, btabEnd: number): void;
  /**
   * Axis-1 synthesis: rows of n coefficients (a with row stride strideA samples, d with
   * strideD) into rows of 2 (n - half + 1) samples at `out`. `taps` holds, per j < half,
   * the float32 (even low, odd low, even high, odd high) reconstruction taps.
   */
  synRows(a: number, d: number, strideA: number, strideD: number, rows: number, n: number, out: number, taps: number, half: number): void;
  /** Axis-0 synthesis: n rows of `width` coefficients (a, d) into 2 (n - half + 1) rows at `out`. */
  synCols(a: number, d: number, width: number, n: number, out: number, taps: number, half: number): void;
  /** sum of v^2 (squares in float32, summed in float64) over n float32 at p */
  sumSq(p: number, n: number): number;
  /** pywt.threshold in place, soft: v max(1 - t / |v|, 0) (0 where that is NaN) */
  soft(p: number, n: number, t: number): void;
  /** hard: 0 where |v| < t */
  hard(p: number, n: number, t: number): void;
  mix3(p0: number, p1: number, p2: number, n: number, coef: number): void;
  range(p: number, n: number, out: number): void;
  rescale(src: number, dst: number, n: number, a: number, b: number): void;
}

/** `xb` from 0 to `last` (bytes) by 16, the last step shortened to end exactly at `last` (needs last >= 0). */
function overlapLoop(b: Body, xb: string, last: string, body: () => void): void {
  b.i32(0).set(xb);
  b.op(...OP.block, ...OP.loop);
  body();
  b.get(xb, last).op(...OP.i32GeS, ...OP.brIf(1));
  b.addTo(xb, 16);
  b.get(last, xb, xb, last).op(...OP.i32GtS, ...OP.select).set(xb);
  b.op(...OP.br(0), ...OP.end, ...OP.end);
}

function buildAnaCols(): Body {
  const b = new Body([['tab', 'i32'], ['rows', 'i32'], ['lo', 'i32'], ['hi', 'i32'], ['width', 'i32']]);
  b.local('i32', 'r', 'cnt', 't', 'tend', 'xb', 'last', 'rowB').local('v128', 'al', 'ah', 'v');
  b.get('width').i32(4).op(...OP.i32Sub).i32(2).op(...OP.i32Shl).set('last');
  b.get('width').i32(2).op(...OP.i32Shl).set('rowB');
  b.i32(0).set('r');
  b.loopUntil(
    () => b.get('r', 'rows').op(...OP.i32GeS),
    () => {
      b.get('tab').op(...OP.i32Load).set('cnt');
      b.get('tab').i32(4).op(...OP.i32Add).set('t');
      b.get('t').get('cnt').i32(12).op(...OP.i32Mul, ...OP.i32Add).set('tend');
      overlapLoop(b, 'xb', 'last', () => {
        b.f32(0).simd(SIMD.f32x4Splat).tee('al').set('ah');
        b.get('t').set('tab');
        b.loopUntil(
          () => b.get('tab', 'tend').op(...OP.i32GeU),
          () => {
            // i32.load offset=8: the term's input row address
            b.get('tab').op(0x28, 0x02, 8).get('xb').op(...OP.i32Add).vload().set('v');
            b.get('al').get('tab').vsplat32(0).get('v').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('al');
            b.get('ah').get('tab').vsplat32(4).get('v').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('ah');
            b.addTo('tab', 12);
          },
        );
        b.get('lo', 'xb').op(...OP.i32Add).get('al').vstore();
        b.get('hi', 'xb').op(...OP.i32Add).get('ah').vstore();
      });
      b.get('tend').set('tab');
      b.get('lo', 'rowB').op(...OP.i32Add).set('lo');
      b.get('hi', 'rowB').op(...OP.i32Add).set('hi');
      b.addTo('r', 1);
    },
  );
  return b;
}

function buildAnaRows(): Body {
  const b = new Body([
    ['src', 'i32'], ['lo', 'i32'], ['hi', 'i32'], ['rows', 'i32'], ['n', 'i32'], ['nOut', 'i32'],
    ['cs', 'i32'], ['cc', 'i32'], ['taps', 'i32'], ['F', 'i32'], ['btab', 'i32'], ['btabEnd', 'i32'],
  ]);
  b.local('i32', 'r', 'xb', 'last', 'p', 'tp', 'tend', 'e', 'cnt', 'o', 'q', 'qend').local('v128', 'al', 'ah', 'v').local('f32', 'sl', 'sh', 'x');
  // centre outputs: byte offsets of outputs cs .. cs + cc - 4 relative to the row's output cs
  b.get('cc').i32(4).op(...OP.i32Sub).i32(2).op(...OP.i32Shl).set('last');
  b.get('taps').get('F').i32(3).op(...OP.i32Shl, ...OP.i32Add).set('tend');
  b.i32(0).set('r');
  b.loopUntil(
    () => b.get('r', 'rows').op(...OP.i32GeS),
    () => {
      b.ifThen(
        () => b.get('cc').i32(4).op(...OP.i32GeS),
        () => {
          overlapLoop(b, 'xb', 'last', () => {
            b.f32(0).simd(SIMD.f32x4Splat).tee('al').set('ah');
            // input of output o = cs + xb / 4, tap 0: 1 + 2 o; byte address src + 4 (1 + 2 cs) + 2 xb
            b.get('src').get('cs').i32(3).op(...OP.i32Shl, ...OP.i32Add).i32(4).op(...OP.i32Add).get('xb').i32(1).op(...OP.i32Shl, ...OP.i32Add).set('p');
            b.get('taps').set('tp');
            b.loopUntil(
              () => b.get('tp', 'tend').op(...OP.i32GeU),
              () => {
                b.get('p').vload(0).get('p').vload(16).shuffle32([0, 2, 4, 6]).set('v');
                b.get('al').get('tp').vsplat32(0).get('v').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('al');
                b.get('ah').get('tp').vsplat32(4).get('v').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('ah');
                b.addTo('tp', 8);
                b.addTo('p', -4);
              },
            );
            b.get('lo').get('cs').i32(2).op(...OP.i32Shl, ...OP.i32Add).get('xb').op(...OP.i32Add).get('al').vstore();
            b.get('hi').get('cs').i32(2).op(...OP.i32Shl, ...OP.i32Add).get('xb').op(...OP.i32Add).get('ah').vstore();
          });
        },
      );
      // the other outputs, term by term
      b.get('btab').set('e');
      b.loopUntil(
        () => b.get('e', 'btabEnd').op(...OP.i32GeU),
        () => {
          b.get('e').op(...OP.i32Load).set('o');
          b.get('e').op(0x28, 0x02, 4).set('cnt');
          b.get('e').i32(8).op(...OP.i32Add).set('q');
          b.get('q').get('cnt').i32(12).op(...OP.i32Mul, ...OP.i32Add).set('qend');
          b.f32(0).tee('sl').set('sh');
          b.loopUntil(
            () => b.get('q', 'qend').op(...OP.i32GeU),
            () => {
              b.get('src').get('q').op(0x28, 0x02, 8).op(...OP.i32Add).fload().set('x');
              b.get('sl').get('q').fload(0).get('x').op(...OP.f32Mul, ...OP.f32Add).set('sl');
              b.get('sh').get('q').fload(4).get('x').op(...OP.f32Mul, ...OP.f32Add).set('sh');
              b.addTo('q', 12);
            },
          );
          b.get('lo').get('o').i32(2).op(...OP.i32Shl, ...OP.i32Add).get('sl').fstore();
          b.get('hi').get('o').i32(2).op(...OP.i32Shl, ...OP.i32Add).get('sh').fstore();
          b.get('qend').set('e');
        },
      );
      b.get('src').get('n').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('src');
      b.get('lo').get('nOut').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('lo');
      b.get('hi').get('nOut').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('hi');
      b.addTo('r', 1);
    },
  );
  return b;
}

/**
 * Accumulates the four sums of the synthesis (ae, ao from a; de, do from d) for the
 * taps j = 0..half-1, reading vectors at a - 4j·step and d - 4j·step (bytes).
 */
function synAccumulate(b: Body, aPtr: string, dPtr: string, stepB: string): void {
  b.f32(0).simd(SIMD.f32x4Splat).tee('ae').tee('ao').tee('de').set('do');
  b.get('taps').set('tp');
  b.get(aPtr).set('pa');
  b.get(dPtr).set('pd');
  b.loopUntil(
    () => b.get('tp', 'tend').op(...OP.i32GeU),
    () => {
      b.get('pa').vload().set('va');
      b.get('pd').vload().set('vd');
      b.get('ae').get('tp').vsplat32(0).get('va').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('ae');
      b.get('ao').get('tp').vsplat32(4).get('va').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('ao');
      b.get('de').get('tp').vsplat32(8).get('vd').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('de');
      b.get('do').get('tp').vsplat32(12).get('vd').simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set('do');
      b.addTo('tp', 16);
      b.get('pa', stepB).op(...OP.i32Sub).set('pa');
      b.get('pd', stepB).op(...OP.i32Sub).set('pd');
    },
  );
}

function buildSynRows(): Body {
  const b = new Body([
    ['a', 'i32'], ['d', 'i32'], ['strideA', 'i32'], ['strideD', 'i32'], ['rows', 'i32'], ['n', 'i32'], ['out', 'i32'], ['taps', 'i32'], ['half', 'i32'],
  ]);
  b.local('i32', 'r', 'M', 'xb', 'last', 'tp', 'tend', 'pa', 'pd', 'four', 'ia', 'id', 'ob').local('v128', 'ae', 'ao', 'de', 'do', 'va', 'vd', 'E', 'O');
  b.get('n', 'half').op(...OP.i32Sub).i32(1).op(...OP.i32Add).set('M');
  b.get('M').i32(4).op(...OP.i32Sub).i32(2).op(...OP.i32Shl).set('last');
  b.get('taps').get('half').i32(4).op(...OP.i32Shl, ...OP.i32Add).set('tend');
  b.i32(4).set('four');
  b.i32(0).set('r');
  b.loopUntil(
    () => b.get('r', 'rows').op(...OP.i32GeS),
    () => {
      overlapLoop(b, 'xb', 'last', () => {
        // i = half - 1 + m, m = xb / 4: the vectors at a + 4 i, stepping back one sample per tap
        b.get('a').get('half').i32(1).op(...OP.i32Sub).i32(2).op(...OP.i32Shl, ...OP.i32Add).get('xb').op(...OP.i32Add).set('ia');
        b.get('d').get('half').i32(1).op(...OP.i32Sub).i32(2).op(...OP.i32Shl, ...OP.i32Add).get('xb').op(...OP.i32Add).set('id');
        synAccumulate(b, 'ia', 'id', 'four');
        b.get('ae', 'de').simd(SIMD.f32x4Add).set('E');
        b.get('ao', 'do').simd(SIMD.f32x4Add).set('O');
        // outputs 2m .. 2m + 7 at out + 8 m = out + 2 xb
        b.get('out').get('xb').i32(1).op(...OP.i32Shl, ...OP.i32Add).set('ob');
        b.get('ob').get('E', 'O').shuffle32([0, 4, 1, 5]).vstore(0);
        b.get('ob').get('E', 'O').shuffle32([2, 6, 3, 7]).vstore(16);
      });
      b.get('a').get('strideA').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('a');
      b.get('d').get('strideD').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('d');
      b.get('out').get('M').i32(3).op(...OP.i32Shl, ...OP.i32Add).set('out');
      b.addTo('r', 1);
    },
  );
  return b;
}

function buildSynCols(): Body {
  const b = new Body([['a', 'i32'], ['d', 'i32'], ['width', 'i32'], ['n', 'i32'], ['out', 'i32'], ['taps', 'i32'], ['half', 'i32']]);
  b.local('i32', 'm', 'M', 'xb', 'last', 'tp', 'tend', 'pa', 'pd', 'rowB', 'ra', 'rd', 'ia', 'id', 'ob').local('v128', 'ae', 'ao', 'de', 'do', 'va', 'vd');
  b.get('n', 'half').op(...OP.i32Sub).i32(1).op(...OP.i32Add).set('M');
  b.get('width').i32(4).op(...OP.i32Sub).i32(2).op(...OP.i32Shl).set('last');
  b.get('width').i32(2).op(...OP.i32Shl).set('rowB');
  b.get('taps').get('half').i32(4).op(...OP.i32Shl, ...OP.i32Add).set('tend');
  // row i = half - 1 + m of a and d
  b.get('a').get('half').i32(1).op(...OP.i32Sub).get('rowB').op(...OP.i32Mul, ...OP.i32Add).set('ra');
  b.get('d').get('half').i32(1).op(...OP.i32Sub).get('rowB').op(...OP.i32Mul, ...OP.i32Add).set('rd');
  b.i32(0).set('m');
  b.loopUntil(
    () => b.get('m', 'M').op(...OP.i32GeS),
    () => {
      overlapLoop(b, 'xb', 'last', () => {
        b.get('ra', 'xb').op(...OP.i32Add).set('ia');
        b.get('rd', 'xb').op(...OP.i32Add).set('id');
        synAccumulate(b, 'ia', 'id', 'rowB');
        b.get('out', 'xb').op(...OP.i32Add).tee('ob').get('ae', 'de').simd(SIMD.f32x4Add).vstore();
        b.get('ob', 'rowB').op(...OP.i32Add).get('ao', 'do').simd(SIMD.f32x4Add).vstore();
      });
      b.get('ra', 'rowB').op(...OP.i32Add).set('ra');
      b.get('rd', 'rowB').op(...OP.i32Add).set('rd');
      b.get('out').get('rowB').i32(1).op(...OP.i32Shl, ...OP.i32Add).set('out');
      b.addTo('m', 1);
    },
  );
  return b;
}

function buildSumSq(): Body {
  const b = new Body([['p', 'i32'], ['n', 'i32']], ['f64']);
  b.local('i32', 'vend', 'end').local('v128', 'sq', 'acc0', 'acc1').local('f64', 's').local('f32', 'x');
  b.get('p').get('n').i32(-4).op(...OP.i32And).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('vend');
  b.get('p').get('n').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('end');
  b.f64(0).simd(SIMD.f64x2Splat).tee('acc0').set('acc1');
  b.loopUntil(
    () => b.get('p', 'vend').op(...OP.i32GeU),
    () => {
      b.get('p').vload().tee('sq').get('sq').simd(SIMD.f32x4Mul).set('sq');
      b.get('acc0').get('sq').simd(SIMD.f64x2PromoteLowF32x4).simd(SIMD.f64x2Add).set('acc0');
      b.get('acc1').get('sq', 'sq').shuffle32([2, 3, 2, 3]).simd(SIMD.f64x2PromoteLowF32x4).simd(SIMD.f64x2Add).set('acc1');
      b.addTo('p', 16);
    },
  );
  b.get('acc0', 'acc1').simd(SIMD.f64x2Add).tee('acc0').simd(SIMD.f64x2Extract, 0).get('acc0').simd(SIMD.f64x2Extract, 1).op(...OP.f64Add).set('s');
  b.loopUntil(
    () => b.get('p', 'end').op(...OP.i32GeU),
    () => {
      b.get('s').get('p').fload().tee('x').get('x').op(...OP.f32Mul, ...OP.f64PromoteF32, ...OP.f64Add).set('s');
      b.addTo('p', 4);
    },
  );
  b.get('s');
  return b;
}

function buildThreshold(soft: boolean): Body {
  const b = new Body([['p', 'i32'], ['n', 'i32'], ['t', 'f32']]);
  b.local('i32', 'vend', 'end').local('v128', 'T', 'ONE', 'Z', 'v', 'm').local('f32', 'x', 'fx');
  b.get('p').get('n').i32(-4).op(...OP.i32And).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('vend');
  b.get('p').get('n').i32(2).op(...OP.i32Shl, ...OP.i32Add).set('end');
  b.get('t').simd(SIMD.f32x4Splat).set('T');
  b.f32(1).simd(SIMD.f32x4Splat).set('ONE');
  b.f32(0).simd(SIMD.f32x4Splat).set('Z');
  b.loopUntil(
    () => b.get('p', 'vend').op(...OP.i32GeU),
    () => {
      b.get('p').vload().set('v');
      if (soft) {
        // v * pmax(0, 1 - t / |v|): pmax(0, f) is f where 0 < f, else 0 (also for NaN)
        b.get('p').get('v').get('Z').get('ONE').get('T').get('v').simd(SIMD.f32x4Abs).simd(SIMD.f32x4Div).simd(SIMD.f32x4Sub);
        b.simd(SIMD.f32x4Pmax).simd(SIMD.f32x4Mul).vstore();
      } else {
        b.get('p').get('v').get('v').simd(SIMD.f32x4Abs).get('T').simd(SIMD.f32x4Lt).simd(SIMD.andNot).vstore();
      }
      b.addTo('p', 16);
    },
  );
  b.loopUntil(
    () => b.get('p', 'end').op(...OP.i32GeU),
    () => {
      b.get('p').fload().set('x');
      if (soft) {
        b.f32(1).get('t').get('x').op(...OP.f32Abs, ...OP.f32Div, ...OP.f32Sub).set('fx');
        b.get('p').get('x', 'fx').op(...OP.f32Mul).get('x').f32(0).op(...OP.f32Mul).get('fx').f32(0).op(...OP.f32Gt, ...OP.select).fstore();
      } else {
        b.get('p').f32(0).get('x', 'x').op(...OP.f32Abs).get('t').op(...OP.f32Lt, ...OP.select).fstore();
      }
      b.addTo('p', 4);
    },
  );
  return b;
}

/**
 * mix3(p0, p1, p2, n, coef): in place on three planes, x_i = p_i s_i + t_i, then
 * p_k = ((x_0 m_k0 + x_1 m_k1) + x_2 m_k2) + o_k, with coef = 18 float32 (s, t, the
 * 3 x 3 matrix by rows, o). Whole vectors: up to 3 samples past n are written (slack).
 */
function buildMix3(): Body {
  const b = new Body([['p0', 'i32'], ['p1', 'i32'], ['p2', 'i32'], ['n', 'i32'], ['coef', 'i32']]);
  b.local('i32', 'end').local('v128', 'x0', 'x1', 'x2');
  const C = Array.from({ length: 18 }, (_, i) => `c${i}`);
  b.local('v128', ...C);
  C.forEach((name, i) => b.get('coef').vsplat32(4 * i).set(name));
  b.get('p0').get('n').i32(3).op(...OP.i32Add).i32(-4).op(...OP.i32And).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('end');
  const P = ['p0', 'p1', 'p2'];
  const X = ['x0', 'x1', 'x2'];
  b.loopUntil(
    () => b.get('p0', 'end').op(...OP.i32GeU),
    () => {
      for (let i = 0; i < 3; i++) b.get(P[i]).vload().get(C[i]).simd(SIMD.f32x4Mul).get(C[3 + i]).simd(SIMD.f32x4Add).set(X[i]);
      for (let k = 0; k < 3; k++) {
        b.get(P[k]);
        b.get(X[0], C[6 + 3 * k]).simd(SIMD.f32x4Mul).get(X[1], C[7 + 3 * k]).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add);
        b.get(X[2], C[8 + 3 * k]).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).get(C[15 + k]).simd(SIMD.f32x4Add).vstore();
      }
      for (const p of P) b.addTo(p, 16);
    },
  );
  return b;
}

/** range(p, n, out): the least and the greatest of n >= 4 float32 at p, written as two float32 at out. */
function buildRange(): Body {
  const b = new Body([['p', 'i32'], ['n', 'i32'], ['out', 'i32']]);
  b.local('i32', 'xb', 'last').local('v128', 'lo', 'hi', 'v').local('f32', 'a', 'z');
  b.get('n').i32(4).op(...OP.i32Sub).i32(2).op(...OP.i32Shl).set('last');
  b.get('p').vload().tee('lo').set('hi');
  overlapLoop(b, 'xb', 'last', () => {
    b.get('p', 'xb').op(...OP.i32Add).vload().set('v');
    b.get('lo', 'v').simd(SIMD.f32x4Pmin).set('lo');
    b.get('hi', 'v').simd(SIMD.f32x4Pmax).set('hi');
  });
  const reduce = (v: string, pick: 'min' | 'max'): void => {
    b.get(v).simd(SIMD.f32x4Extract, 0).set('a');
    for (let l = 1; l < 4; l++) {
      b.get(v).simd(SIMD.f32x4Extract, l).set('z');
      // a = z < a (min) or z > a (max) ? z : a
      b.get('z', 'a', 'z', 'a').op(...(pick === 'min' ? OP.f32Lt : OP.f32Gt), ...OP.select).set('a');
    }
  };
  reduce('lo', 'min');
  b.get('out', 'a').fstore(0);
  reduce('hi', 'max');
  b.get('out', 'a').fstore(4);
  return b;
}

/** rescale(src, dst, n, a, b): dst = (src - a) / b, whole vectors (up to 3 samples past n written). */
function buildRescale(): Body {
  const b = new Body([['src', 'i32'], ['dst', 'i32'], ['n', 'i32'], ['a', 'f32'], ['b', 'f32']]);
  b.local('i32', 'end').local('v128', 'A', 'B');
  b.get('a').simd(SIMD.f32x4Splat).set('A');
  b.get('b').simd(SIMD.f32x4Splat).set('B');
  b.get('src').get('n').i32(3).op(...OP.i32Add).i32(-4).op(...OP.i32And).i32(2).op(...OP.i32Shl, ...OP.i32Add).set('end');
  b.loopUntil(
    () => b.get('src', 'end').op(...OP.i32GeU),
    () => {
      b.get('dst').get('src').vload().get('A').simd(SIMD.f32x4Sub).get('B').simd(SIMD.f32x4Div).vstore();
      b.addTo('src', 16);
      b.addTo('dst', 16);
    },
  );
  return b;
}

let compiled: object | null | undefined;

function waveletModule(): object | null {
  if (compiled === undefined) {
    compiled = compileModule(
      assembleModule({
        functions: [
          { name: 'anaCols', body: buildAnaCols() },
          { name: 'anaRows', body: buildAnaRows() },
          { name: 'synRows', body: buildSynRows() },
          { name: 'synCols', body: buildSynCols() },
          { name: 'sumSq', body: buildSumSq() },
          { name: 'soft', body: buildThreshold(true) },
          { name: 'hard', body: buildThreshold(false) },
          { name: 'mix3', body: buildMix3() },
          { name: 'range', body: buildRange() },
          { name: 'rescale', body: buildRescale() },
        ],
        memory: { minPages: 1 },
      }),
    );
  }
  return compiled;
}

/** Whether the SIMD kernels run here (WebAssembly SIMD present and HUSH_NO_SIMD unset). */
export function waveletSimdAvailable(): boolean {
  return simdAllowed() && waveletModule() !== null;
}

/** The kernels on a memory, or undefined where they cannot run. */
export function waveletKernels(memory: WasmMemory): WaveletKernels | undefined {
  if (!simdAllowed()) return undefined;
  const mod = waveletModule();
  return mod ? instantiate<WaveletKernels>(mod, memory) : undefined;
}

/** One subband on the heap: its float32 samples (a view, valid until the next transform in this thread) and their byte address. */
export interface HeapBand {
  ptr: number;
  data: Float32Array;
}

interface LevelDims {
  /** the level's input */
  w: number;
  h: number;
  /** its bands */
  w2: number;
  h2: number;
}

/**
 * Whether the SIMD transform handles a width x height plane for `levels` levels of a
 * filter of F taps in mode 'symmetric': every level's input at least 4 wide, and its
 * bands at least F/2 + 3 wide (4 outputs per vector in the synthesis along rows).
 */
export function simdEligible(width: number, height: number, F: number, levels: number): boolean {
  return levelDims(width, height, F, levels) !== undefined;
}

function levelDims(width: number, height: number, F: number, levels: number): LevelDims[] | undefined {
  const dims: LevelDims[] = [];
  let w = width;
  let h = height;
  for (let l = 0; l < levels; l++) {
    const w2 = dwtLength(w, F, 'symmetric');
    const h2 = dwtLength(h, F, 'symmetric');
    if (w < 4 || w2 - F / 2 + 1 < 4) return undefined;
    dims.push({ w, h, w2, h2 });
    w = w2;
    h = h2;
  }
  return dims;
}

const kept = new KeptMemory();
let keptKernels: { memory: WasmMemory; k: WaveletKernels } | undefined;

/**
 * pywt.wavedec2 / waverec2 in mode 'symmetric' on one float32 plane in WebAssembly
 * memory (kept per thread between calls), with the subbands open for thresholding in
 * between. Make one with `heapTransform` (undefined where SIMD is missing or the plane
 * is too small), fill `input`, `decompose()`, shrink `details`, `reconstruct()`.
 */
export class HeapTransform {
  /** the input plane (width x height), to be filled by the caller */
  readonly input: Float32Array;
  /** details[l] = [horizontal, vertical, diagonal] of level l, the finest first */
  readonly details: [HeapBand, HeapBand, HeapBand][] = [];
  private approx = 0;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;

  constructor(
    private readonly k: WaveletKernels,
    memory: WasmMemory,
    private readonly bank: FilterBank,
    private readonly dims: LevelDims[],
    private readonly width: number,
    private readonly height: number,
    private readonly at: { input: number; colLo: number; colHi: number; bands: number[][]; outs: number[]; tab: number; extra: number[]; scratch: number },
  ) {
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
    this.input = this.f32.subarray(at.input >> 2, (at.input >> 2) + width * height);
    this.extra = at.extra.map((ptr) => this.band(ptr, width * height));
  }

  /** planes of width x height for the caller (e.g. YCbCr channels), kept apart from the transform's arrays */
  readonly extra: HeapBand[];

  /** the colour transform `mix3` on the three extra planes; coef as there (18 numbers) */
  mix3(coef: readonly number[]): void {
    this.f32.set(coef, this.at.scratch >> 2);
    const [a, b, c] = this.at.extra;
    this.k.mix3(a, b, c, this.width * this.height, this.at.scratch);
  }

  /** [least, greatest] sample of a plane */
  range(p: HeapBand): [number, number] {
    this.k.range(p.ptr, p.data.length, this.at.scratch);
    const s = this.at.scratch >> 2;
    return [this.f32[s], this.f32[s + 1]];
  }

  /** input = (p - a) / b (float32) */
  rescaleToInput(p: HeapBand, a: number, b: number): void {
    this.k.rescale(p.ptr, this.at.input, p.data.length, a, b);
  }

  private band(ptr: number, len: number): HeapBand {
    return { ptr, data: this.f32.subarray(ptr >> 2, (ptr >> 2) + len) };
  }

  /** the full decomposition; `details` afterwards holds every level's bands */
  decompose(): void {
    const { k, bank, f32, i32 } = this;
    const F = bank.length;
    let src = this.at.input;
    this.details.length = 0;
    this.dims.forEach(({ w, h, w2, h2 }, l) => {
      // axis 0: a table of (low tap, high tap, input row address) per output row
      const rows = analysisPlan(h, F, 'symmetric');
      let t = this.at.tab >> 2;
      for (let o = 0; o < h2; o++) {
        const terms = rows.terms[o];
        const count = terms ? terms.length / 2 : F;
        i32[t++] = count;
        for (let q = 0; q < count; q++) {
          const tap = terms ? terms[2 * q] : q;
          const row = terms ? terms[2 * q + 1] : rows.centreOffset + 2 * o - q;
          f32[t] = bank.decLo[tap];
          f32[t + 1] = bank.decHi[tap];
          i32[t + 2] = src + 4 * row * w;
          t += 3;
        }
      }
      k.anaCols(this.at.tab, h2, this.at.colLo, this.at.colHi, w);
      // axis 1: the centre by vectors, the rest from a table
      const cols = analysisPlan(w, F, 'symmetric');
      let cs = cols.centreStart;
      let cc = cols.centreEnd - cols.centreStart;
      if (cc < 4) {
        cs = 0;
        cc = 0;
      }
      const taps = this.at.tab;
      for (let j = 0; j < F; j++) {
        f32[(taps >> 2) + 2 * j] = bank.decLo[j];
        f32[(taps >> 2) + 2 * j + 1] = bank.decHi[j];
      }
      const btab = taps + 8 * F;
      t = btab >> 2;
      for (let o = 0; o < w2; o++) {
        if (cc > 0 && o >= cs && o < cs + cc) continue;
        const terms = cols.terms[o];
        const count = terms ? terms.length / 2 : F;
        i32[t++] = o;
        i32[t++] = count;
        for (let q = 0; q < count; q++) {
          const tap = terms ? terms[2 * q] : q;
          const x = terms ? terms[2 * q + 1] : cols.centreOffset + 2 * o - q;
          f32[t] = bank.decLo[tap];
          f32[t + 1] = bank.decHi[tap];
          i32[t + 2] = 4 * x;
          t += 3;
        }
      }
      const [aa, ad, da, dd] = this.at.bands[l];
      // pywt.dwtn: a = lo along axis 0; (aa, ad) from a, (da, dd) from d along axis 1
      k.anaRows(this.at.colLo, aa, ad, h2, w, w2, cs, cc, taps, F, btab, t << 2);
      k.anaRows(this.at.colHi, da, dd, h2, w, w2, cs, cc, taps, F, btab, t << 2);
      const n2 = w2 * h2;
      this.details.push([this.band(da, n2), this.band(ad, n2), this.band(dd, n2)]);
      src = aa;
    });
    this.approx = src;
  }

  /** pywt.waverec2 of the (thresholded) bands, cropped to the input's size: a view on the heap */
  reconstruct(): Float32Array {
    const { k, bank, f32 } = this;
    const F = bank.length;
    const half = F / 2;
    const taps = this.at.tab;
    for (let j = 0; j < half; j++) {
      const t = (taps >> 2) + 4 * j;
      f32[t] = bank.recLo[2 * j];
      f32[t + 1] = bank.recLo[2 * j + 1];
      f32[t + 2] = bank.recHi[2 * j];
      f32[t + 3] = bank.recHi[2 * j + 1];
    }
    let a = this.approx;
    let strideA = this.dims[this.dims.length - 1].w2;
    let outW = 0;
    for (let l = this.dims.length - 1; l >= 0; l--) {
      const { w2, h2 } = this.dims[l];
      const [aa, ad, da, dd] = this.at.bands[l];
      void aa;
      outW = idwtLength(w2, F, 'symmetric');
      // axis 1 first: (approximation, vertical) and (horizontal, diagonal); rows beyond h2 of a bigger approximation are cropped
      k.synRows(a, ad, strideA, w2, h2, w2, this.at.colLo, taps, half);
      k.synRows(da, dd, w2, w2, h2, w2, this.at.colHi, taps, half);
      k.synCols(this.at.colLo, this.at.colHi, outW, h2, this.at.outs[l], taps, half);
      a = this.at.outs[l];
      strideA = outW;
    }
    const { width, height } = this;
    const start = a >> 2;
    if (outW === width) return f32.subarray(start, start + width * height);
    // crop the one extra column of an odd width, in place (rows move left, in order)
    for (let y = 1; y < height; y++) f32.copyWithin(start + y * width, start + y * outW, start + y * outW + width);
    return f32.subarray(start, start + width * height);
  }

  sumSq(b: HeapBand): number {
    return this.k.sumSq(b.ptr, b.data.length);
  }

  shrink(b: HeapBand, t: number, soft: boolean): void {
    if (soft) this.k.soft(b.ptr, b.data.length, t);
    else this.k.hard(b.ptr, b.data.length, t);
  }
}

/**
 * A transform for a width x height plane and `levels` levels (and `extraPlanes` planes
 * of that size for the caller), or undefined where the SIMD kernels cannot run it. It
 * uses this thread's kept memory, so it is valid until the next heapTransform call here;
 * `ownMemory` gives it a memory of its own instead.
 */
export function heapTransform(bank: FilterBank, width: number, height: number, levels: number, extraPlanes = 0, ownMemory = false): HeapTransform | undefined {
  if (!waveletSimdAvailable()) return undefined;
  const F = bank.length;
  const dims = levelDims(width, height, F, levels);
  if (!dims || levels < 1) return undefined;
  // bump allocation, 16-byte aligned, 16 bytes of slack after each array (vector reads may pass a row's end by one sample)
  let top = 0;
  const alloc = (floats: number): number => {
    const at = top;
    top += Math.ceil((4 * floats + 16) / 16) * 16;
    return at;
  };
  const input = alloc(width * height);
  let colMax = 0;
  let tabMax = 0;
  for (const { w, h2, w2 } of dims) {
    colMax = Math.max(colMax, h2 * (w + 1), h2 * idwtLength(w2, F, 'symmetric'));
    tabMax = Math.max(tabMax, h2 * (1 + 3 * F), 2 * F + w2 * (2 + 3 * F));
  }
  const colLo = alloc(colMax);
  const colHi = alloc(colMax);
  const tab = alloc(tabMax + 4 * F);
  const bands = dims.map(({ w2, h2 }) => [alloc(w2 * h2), alloc(w2 * h2), alloc(w2 * h2), alloc(w2 * h2)]);
  const outs = dims.map(({ w2, h2 }) => alloc(idwtLength(w2, F, 'symmetric') * idwtLength(h2, F, 'symmetric')));
  const extra = Array.from({ length: extraPlanes }, () => alloc(width * height));
  const scratch = alloc(32);
  if (ownMemory) {
    // for callers that wait in between (worker threads): nobody else in this thread uses this memory
    const memory = newMemory(Math.ceil(top / WASM_PAGE));
    const k = waveletKernels(memory);
    return k && new HeapTransform(k, memory, bank, dims, width, height, { input, colLo, colHi, bands, outs, tab, extra, scratch });
  }
  const { memory } = kept.take(top);
  if (!keptKernels || keptKernels.memory !== memory) {
    const k = waveletKernels(memory);
    if (!k) return undefined;
    keptKernels = { memory, k };
  }
  return new HeapTransform(keptKernels.k, memory, bank, dims, width, height, { input, colLo, colHi, bands, outs, tab, extra, scratch });
}
