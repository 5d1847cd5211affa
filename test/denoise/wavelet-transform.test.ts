import test from 'node:test';
import assert from 'node:assert/strict';
import {
  dwt2,
  dwt2MaxLevel,
  dwtLength,
  dwtMaxLevel,
  idwt2,
  waveletFilters,
  WAVELETS,
  WAVELET_MODES,
  wavedec2,
  waverec2,
  cropPlane,
  type Plane,
  type Wavelet,
  type WaveletMode,
} from '../../src/denoise/wavelet-transform.js';

/** The test plane: ((7x + 13y + 3xy) mod 17) / 16 + 0.01 x, in float64 (the same in numpy). */
function plane(width: number, height: number): Plane {
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ((7 * x + 13 * y + 3 * x * y) % 17) / 16 + 0.01 * x;
  return { data, width, height };
}

/** Deterministic pseudo-random plane (31-bit LCG), values in [-1, 1). */
function lcgPlane(width: number, height: number, seed: number): Plane {
  const data = new Float64Array(width * height);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(1103515245, s) + 12345) & 0x7fffffff;
    data[i] = (s / 2 ** 31) * 2 - 1;
  }
  return { data, width, height };
}

function maxAbs(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Band {
  shape: number[];
  data?: number[];
  horizontal?: number[];
  vertical?: number[];
  diagonal?: number[];
}

/*
 * Reference coefficients from PyWavelets 1.1.1 (numpy 1.24.2, Debian bookworm), computed once:
 *   plane = lambda w, h: np.array([[((7*x + 13*y + 3*x*y) % 17)/16 + 0.01*x for x in range(w)] for y in range(h)])
 *   pywt.wavedec2(plane(w, h), wavelet, mode=mode, level=level)
 * level0 is the coarsest detail level (pywt's order). They match bit for bit: the transform keeps
 * pywt's order of summation.
 */
const PYWT: {
  call: string;
  width: number;
  height: number;
  wavelet: Wavelet;
  mode: WaveletMode;
  level: number;
  approximation?: Band;
  level0?: Band;
  level1?: Band;
  diagonalOnly?: Band;
}[] = [
  {
    call: "pywt.wavedec2(plane(5, 4), 'haar', mode='symmetric', level=2)",
    width: 5,
    height: 4,
    wavelet: 'haar',
    mode: 'symmetric',
    level: 2,
    approximation: { shape: [1, 2], data: [1.810000000000001, 1.6600000000000006] },
    level0: { shape: [1, 2], horizontal: [0.4062500000000001, 0.12500000000000008], vertical: [-0.25875000000000015, 0.0], diagonal: [-0.3125000000000001, 0.0] },
    level1: { shape: [2, 3], horizontal: [-0.3750000000000001, -0.21875000000000006, 0.5625000000000001, 0.15625000000000003, 0.31250000000000006, 0.5625000000000002], vertical: [-0.009999999999999953, 0.5212500000000002, 0.0, 0.14625000000000005, -0.3850000000000001, 0.0], diagonal: [-0.4375000000000001, 0.09374999999999999, 0.0, 0.09375000000000003, -0.43750000000000006, 0.0] },
  },
  {
    call: "pywt.wavedec2(plane(7, 5), 'db2', mode='symmetric', level=2)",
    width: 7,
    height: 5,
    wavelet: 'db2',
    mode: 'symmetric',
    level: 2,
    approximation: { shape: [3, 4], data: [1.4248630278745804, 1.7553614639780086, 1.9756566418603163, 1.7111663908877097, 1.7977094479868603, 1.982230420838412, 1.9730084221264066, 1.554989786679621, 0.657537852931465, 0.6805854206849645, 2.0190939648329955, 3.5520463219315026] },
    level0: { shape: [3, 4], horizontal: [-0.3551851024648227, -0.22796754449513548, -0.14407894704528496, 0.14030353161190207, 0.21603182273353555, 0.0922504364449843, -0.48669831308645506, -0.11853836326871409, -0.3983041484528449, -0.3368144191235065, 0.38112607809431076, 0.49919620560179667], vertical: [-0.2357139130324884, 0.453365077763373, -0.05193875078456556, -0.2636775782823517, -0.08456277601527029, 0.4087895037454049, -0.09539587239010142, -0.23137368801925356, -0.04952360754446125, -0.07787878628565978, 0.4171137498939583, -0.08858899639125922], diagonal: [-0.1273719666399685, 0.05325746641055186, 0.08439658697717108, -0.11416295622866834, 0.14257879942290272, 0.00989200967290622, 0.11711797003443253, -0.25725125052507597, -0.10171832366092984, -0.10714393584880211, 0.015433444899700504, 0.22568355760778558] },
    level1: { shape: [4, 5], horizontal: [-0.5142025834970105, -0.2006760428083845, -0.0653595734670659, -0.17493988160479115, 0.012560118395208944, 0.14583824682036228, -0.08419975105987926, 0.3142377489401208, 0.24783149894012074, -0.6948817478802417, -0.13873695507185707, -0.07176979280838447, 0.03852172358083559, 0.21740273149102168, 0.09208739905389043, -0.03717445507185705, 0.042407837736527405, -0.4332381458742527, -0.5251001009461096, 0.6080277314910216], vertical: [-0.19810331111569035, 0.6770882468203623, 0.21701225105987934, 0.05901365767760369, -0.3209863423223964, 0.11542322957293567, 0.4470502489401209, -0.21701225105987917, -0.09103143111880299, 0.20564619942610893, 0.09004267249508971, -0.24783149894012083, 0.06640625000000001, 0.24322333209077934, -0.33326600458586897, -0.12089482750491032, 0.06640625, -0.01779350105987914, 0.1795464954141312, -0.058651667909220856], diagonal: [-0.32812500000000006, 0.08419975105987917, 0.5442757468203623, 0.09038452641916456, -0.5591345264191646, 0.08419975105987924, -0.5798627489401207, 0.1814252489401208, -0.2608572457604831, 0.11501899894012078, -0.055453720401197795, 0.06640625, -0.01779350105987925, -0.040464780658681476, 0.09591850105987927, -0.014858779598802217, 0.24783149894012077, -0.06640625000000006, 0.3259564989401208, -0.3110977193413186] },
  },
  {
    call: "pywt.wavedec2(plane(7, 5), 'db2', mode='periodization', level=2)",
    width: 7,
    height: 5,
    wavelet: 'db2',
    mode: 'periodization',
    level: 2,
    approximation: { shape: [2, 2], data: [1.8565996081609892, 2.0241300305785335, 2.1375278929169763, 1.6530225275411075] },
    level0: { shape: [2, 2], horizontal: [-0.20255721121781445, 0.054017057148951955, 0.22971309123278688, -0.23226470249326486], vertical: [0.03984332082517611, 0.6035289622815309, -0.5194277485445844, 0.7271129285854236], diagonal: [0.09813145263547701, -0.8557084407312896, -0.35560578666242676, 0.35658738312350413] },
    level1: { shape: [3, 4], horizontal: [0.2620542182814393, 0.5365383948143735, -0.3070411733532963, 0.09689002959880226, 0.19921875000000003, -0.15060600105987926, -0.6592947457604831, 0.15060600105987929, 0.06354667653293414, -0.24714042653293403, 0.13810089481437343, 0.3233773816047913], vertical: [-0.2683247279288621, -0.33203125, -0.23003799788024162, 0.4396408003360488, -0.13110007781509253, 0.3806439989401208, 0.06640624999999997, -0.25051346499329197, -0.15627532675521322, 0.048612748940120715, -0.19921875, 0.6284477971564113], diagonal: [-0.3288912204011979, 0.017793501059879223, 0.39843750000000017, -0.24747589481437343, 0.017793501059879258, -0.10199325211975852, -0.4778694968203622, 0.29644424788024154, -0.0002804561317363216, 0.18142524894012083, 0.2478314989401208, 0.028034822407186757] },
  },
  {
    call: "pywt.wavedec2(plane(6, 4), 'sym8', mode='symmetric', level=1)",
    width: 6,
    height: 4,
    wavelet: 'sym8',
    mode: 'symmetric',
    level: 1,
    diagonalOnly: { shape: [9, 10], data: [0.5167530548475269, -0.7616280316204566, 0.3742855667352703, 0.21151332053933816, -0.44063438390191045, 0.09971047340261657, 0.5167530548475269, -0.7616280316204567, 0.3742855667352703, 0.21151332053933816, 0.04596877058879466, 0.08974846428116907, 0.2967140800808508, -0.1671987744941766, 0.0931639896481879, -0.3583965301068222, 0.04596877058879467, 0.08974846428116907, 0.2967140800808507, -0.16719877449417667, -0.30020623473065383, 0.20762645578631153, -0.6149709439855877, 0.1528464272005959, 0.0638931668253854, 0.4908111289056895, -0.30020623473065383, 0.20762645578631153, -0.6149709439855876, 0.15284642720059594, -0.2625155907057105, 0.4642531115529846, -0.056028702829852874, -0.19716097324535972, 0.28357722742734687, -0.23212507220153747, -0.2625155907057105, 0.4642531115529846, -0.056028702829852874, -0.1971609732453597, 0.5167530548475268, -0.7616280316204563, 0.3742855667352703, 0.21151332053933816, -0.44063438390191045, 0.09971047340261655, 0.5167530548475268, -0.7616280316204564, 0.3742855667352703, 0.21151332053933816, 0.04596877058879466, 0.08974846428116907, 0.2967140800808508, -0.16719877449417658, 0.09316398964818788, -0.3583965301068222, 0.04596877058879467, 0.08974846428116907, 0.2967140800808507, -0.1671987744941766, -0.30020623473065383, 0.20762645578631153, -0.6149709439855877, 0.1528464272005959, 0.06389316682538537, 0.49081112890568956, -0.30020623473065383, 0.20762645578631148, -0.6149709439855876, 0.15284642720059596, -0.2625155907057105, 0.46425311155298465, -0.056028702829852874, -0.19716097324535972, 0.28357722742734687, -0.23212507220153747, -0.2625155907057105, 0.46425311155298465, -0.05602870282985287, -0.1971609732453597, 0.5167530548475266, -0.7616280316204563, 0.3742855667352702, 0.2115133205393382, -0.4406343839019105, 0.09971047340261659, 0.5167530548475266, -0.7616280316204564, 0.3742855667352702, 0.2115133205393382] },
  },
];

test('coefficients equal pywt.wavedec2 bit for bit (symmetric and periodization, odd sizes)', () => {
  for (const ref of PYWT) {
    const c = wavedec2(plane(ref.width, ref.height), { wavelet: ref.wavelet, mode: ref.mode, level: ref.level });
    assert.equal(c.details.length, ref.level, ref.call);
    const check = (p: Plane, shape: number[], data: number[] | undefined, what: string): void => {
      assert.deepEqual([p.height, p.width], shape, `${ref.call} ${what} shape`);
      assert.deepEqual(Array.from(p.data), data, `${ref.call} ${what}`);
    };
    if (ref.diagonalOnly) {
      check(c.details[0].diagonal, ref.diagonalOnly.shape, ref.diagonalOnly.data, 'diagonal');
      continue;
    }
    check(c.approximation, ref.approximation!.shape, ref.approximation!.data, 'approximation');
    [ref.level0!, ref.level1!].forEach((lv, l) => {
      for (const k of ['horizontal', 'vertical', 'diagonal'] as const) check(c.details[l][k], lv.shape, lv[k], `level ${l} ${k}`);
    });
  }
});

test('filter banks are orthonormal and follow pywt (haar = db1; dec_lo reversed rec_lo)', () => {
  assert.deepEqual(waveletFilters('haar').decLo, waveletFilters('db1').decLo);
  for (const w of WAVELETS) {
    const f = waveletFilters(w);
    const L = f.length;
    assert.equal(L % 2, 0);
    let sum = 0;
    let energy = 0;
    for (let i = 0; i < L; i++) {
      assert.equal(f.decLo[i], f.recLo[L - 1 - i]);
      assert.equal(f.decHi[i], f.recHi[L - 1 - i]);
      sum += f.recLo[i];
      energy += f.recLo[i] ** 2;
    }
    assert.ok(Math.abs(sum - Math.SQRT2) < 1e-15, `${w}: taps sum to sqrt 2`);
    // pywt's symlet tables are orthonormal to about 5e-12 only (sym3); its Daubechies tables to 1e-16
    assert.ok(Math.abs(energy - 1) < (w.startsWith('sym') ? 1e-11 : 4e-16), `${w}: unit norm, off by ${Math.abs(energy - 1)}`);
  }
  assert.equal(waveletFilters('db8').length, 16);
  assert.equal(waveletFilters('sym8').length, 16);
});

test('perfect reconstruction for every wavelet and mode, odd and tiny sizes, several levels', () => {
  const sizes: [number, number][] = [
    [1, 1],
    [2, 2],
    [1, 6],
    [7, 1],
    [3, 5],
    [17, 13],
    [32, 9],
  ];
  for (const wavelet of WAVELETS) {
    for (const mode of WAVELET_MODES) {
      for (const [w, h] of sizes) {
        for (const level of [1, 2, 3]) {
          const p = lcgPlane(w, h, w * 31 + h);
          const c = wavedec2(p, { wavelet, mode, level });
          const r = waverec2(c, { wavelet, mode });
          assert.ok(r.width >= w && r.width <= w + 1 && r.height >= h && r.height <= h + 1, `${wavelet} ${mode} ${w}x${h}: size ${r.width}x${r.height}`);
          const err = maxAbs(cropPlane(r, w, h).data, p.data);
          // pywt reconstructs as well and no better: its symlet filters are orthonormal to ~5e-12, so
          // round trips with them drift to ~3e-11 there too; the Daubechies ones are exact to rounding
          const tolerance = wavelet.startsWith('sym') ? 1e-10 : 4e-15;
          assert.ok(err < tolerance, `${wavelet} ${mode} ${w}x${h} level ${level}: error ${err}`);
        }
      }
    }
  }
});

test('one level: sizes, idwt2 inverts dwt2, and the transform is orthonormal in periodization mode', () => {
  const p = lcgPlane(16, 12, 3);
  for (const wavelet of ['db1', 'db4', 'sym5'] as const) {
    const c = dwt2(p, { wavelet, mode: 'symmetric' });
    const L = waveletFilters(wavelet).length;
    assert.equal(c.approximation.width, dwtLength(16, L, 'symmetric'));
    assert.equal(c.diagonal.height, Math.floor((12 + L - 1) / 2));
    assert.ok(maxAbs(idwt2(c, { wavelet, mode: 'symmetric' }).data, p.data) < 1e-12);
    // periodization on even sizes: an orthogonal change of basis, energy preserved (Parseval)
    const q = dwt2(p, { wavelet, mode: 'periodization' });
    let e = 0;
    for (const b of [q.approximation, q.horizontal, q.vertical, q.diagonal]) for (const v of b.data) e += v * v;
    let e0 = 0;
    for (const v of p.data) e0 += v * v;
    assert.ok(Math.abs(e - e0) < 1e-10 * e0, `${wavelet}: energy ${e} vs ${e0}`);
  }
});

test('a constant plane has no detail and a haar step has the hand-computed coefficients', () => {
  const flat: Plane = { data: new Float64Array(6 * 5).fill(0.75), width: 6, height: 5 };
  const c = wavedec2(flat, { wavelet: 'db3', level: 1 });
  for (const k of ['horizontal', 'vertical', 'diagonal'] as const) assert.ok(c.details[0][k].data.every((v) => Math.abs(v) < 1e-15), k);
  // haar on [[0, 1], [0, 1]], by hand: approximation (0+1+0+1)/2 = 1; with pywt's dec_hi = [-1, 1]/sqrt 2
  // the detail along a row is (0 - 1)/sqrt 2, summed down the two rows: vertical (0-1+0-1)/2 = -1
  // (pywt.dwt2([[0, 1], [0, 1]], 'haar') gives cA 1, cH 0, cV -1, cD 0)
  const step = dwt2({ data: Float64Array.from([0, 1, 0, 1]), width: 2, height: 2 }, { wavelet: 'haar' });
  assert.ok(Math.abs(step.approximation.data[0] - 1) < 1e-15);
  assert.ok(Math.abs(step.vertical.data[0] + 1) < 1e-15);
  assert.equal(step.horizontal.data[0], 0);
  assert.equal(step.diagonal.data[0], 0);
});

test('maximum levels follow pywt.dwt_max_level', () => {
  // pywt.dwt_max_level(n, L) for n = 1, 2, 7, 8, 30, 32, 1000 and L = 2, 4, 16
  const expected: [number, number, number][] = [
    [1, 2, 0],
    [2, 2, 1],
    [7, 4, 1],
    [8, 2, 3],
    [30, 16, 1],
    [32, 2, 5],
    [1000, 10, 6],
    [14, 16, 0],
  ];
  for (const [n, L, level] of expected) assert.equal(dwtMaxLevel(n, L), level, `n=${n} L=${L}`);
  assert.equal(dwt2MaxLevel(64, 32, 'db2'), 3); // pywt.dwtn_max_level((32, 64), 'db2')
});

test('rejects bad options with exact messages', () => {
  const p = plane(4, 4);
  assert.throws(() => wavedec2(p, { wavelet: 'db9' as Wavelet }), {
    code: 'ERR_INVALID_PARAMETER',
    message:
      "wavedec2: expected one of 'haar', 'db1', 'db2', 'db3', 'db4', 'db5', 'db6', 'db7', 'db8', 'sym2', 'sym3', 'sym4', 'sym5', 'sym6', 'sym7', 'sym8' for options.wavelet but received 'db9' (string). Did you mean 'db1'?",
  });
  assert.throws(() => wavedec2(p, { mode: 'periodic' as WaveletMode }), {
    message: "wavedec2: expected one of 'symmetric', 'periodization' for options.mode but received 'periodic' (string).",
  });
  assert.throws(() => wavedec2(p, { level: -1 }), { message: 'wavedec2: expected an integer from 0 to 30 for options.level but received -1 (number).' });
  assert.throws(() => wavedec2(p, { level: 1.5 }), { message: 'wavedec2: expected an integer from 0 to 30 for options.level but received 1.5 (number).' });
  assert.throws(() => wavedec2({ data: new Float64Array(3), width: 2, height: 2 }), {
    message: 'wavedec2: expected a Float64Array of length 4 (width x height) for plane.data but received a Float64Array.',
  });
  assert.throws(() => dwt2({ data: new Float32Array(4) as unknown as Float64Array, width: 2, height: 2 }), {
    message: 'dwt2: expected a Float64Array of length 4 (width x height) for plane.data but received a Float32Array.',
  });
  const c = dwt2(plane(6, 6), { wavelet: 'db2' });
  assert.throws(() => idwt2({ ...c, diagonal: plane(2, 2) }, { wavelet: 'db2' }), {
    message: "idwt2: expected a 4x4 plane like coeffs.approximation for coeffs.diagonal but received '2x2' (string).",
  });
  const dec = wavedec2(plane(9, 9), { wavelet: 'db1', level: 2 });
  assert.throws(() => waverec2({ ...dec, details: [dec.details[1], dec.details[0]] }, { wavelet: 'db1' }), {
    message: "waverec2: expected bands the size of the approximation at that level (3x3) for coeffs.details[0] but received '5x5' (string).",
  });
});
