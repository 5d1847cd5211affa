import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { psnr } from '../../src/metrics/index.js';
import {
  bayesThreshold,
  denoiseWavelet,
  denoiseWaveletParallel,
  sigmaFromDetail,
  visuThreshold,
  WAVELET_DENOISER,
  type DenoiseWaveletOptions,
} from '../../src/denoise/wavelet.js';
import { wavedec2, type Plane } from '../../src/denoise/wavelet-transform.js';
import { maxAbsDiff, randomImage, testPattern } from '../helpers/images.js';

/**
 * The inputs of the pasted references: ((7x + 13y + 3xy + 5c) mod 17)/16 * 0.5 + 0.25 plus
 * 0.2 * (u - 0.5), u from a 31-bit LCG stepped in y, x, c order, stored as float32.
 */
function noisy(width: number, height: number, channels: Channels, seed: number): Image {
  const im = createImage(width, height, channels);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(1103515245, s) + 12345) & 0x7fffffff;
        im.data[(y * width + x) * channels + c] = (((7 * x + 13 * y + 3 * x * y + 5 * c) % 17) / 16) * 0.5 + 0.25 + 0.2 * (s / 2 ** 31 - 0.5);
      }
    }
  }
  return im;
}

const asPlane = (im: Image): Plane => ({ data: Float64Array.from(im.data), width: im.width, height: im.height });

/*
 * scikit-image 0.19.3 / PyWavelets 1.1.1 (numpy 1.24.2, Debian bookworm), g = noisy(12, 10, 1, 99)[..., 0]
 * and rgb = noisy(9, 7, 3, 5) as float64:
 *   c = pywt.wavedecn(g, 'db1', level=1)
 *   sigma12x10 = _sigma_est_dwt(c[-1]['dd'])
 *   bayes12x10 = {k: _bayes_thresh(v, sigma**2) for k, v in c[1].items()}   ('ad' = vertical, 'da' = horizontal)
 *   visu12x10 = _universal_thresh(g, sigma)
 *   bayesDb2Sigma01 = [{k: _bayes_thresh(v, 0.01) ...} for d in pywt.wavedecn(g, 'db2', level=2)[1:]]
 *   bayesDefault12x10 = denoise_wavelet(g)
 *   visuHardDb2 = denoise_wavelet(g, sigma=0.1, wavelet='db2', mode='hard', method='VisuShrink', wavelet_levels=2)
 *   ycbcrSym2Rgb9x7 = denoise_wavelet(rgb, channel_axis=-1, convert2ycbcr=True, wavelet='sym2')
 * The 671088.64 is sigma^2 / sqrt(eps): a subband with less variance than the noise is zeroed.
 */
const SKIMAGE_WAVELET = {
  sigma12x10: 0.15281640341529465,
  bayes12x10: {vertical: 0.6372985816373025, horizontal: 0.2753112023900447, diagonal: 0.41124408759834286},
  visu12x10: 0.47286698264811217,
  bayesDb2Sigma01: [{vertical: 0.05683309674437823, horizontal: 0.037823254019614325, diagonal: 671088.64}, {vertical: 0.08768664051873548, horizontal: 0.07217312516910436, diagonal: 0.08551618377151235}],
  bayesDefault12x10: [0.4450304135680199, 0.4450304135680199, 0.6044327318668368, 0.6044327318668368, 0.4666925221681596, 0.4666925221681596, 0.5748915299773217, 0.5748915299773217, 0.4349706321954729, 0.4349706321954729, 0.5132768377661707, 0.5132768377661707, 0.4450304135680199, 0.4450304135680199, 0.6044327318668368, 0.6044327318668368, 0.4666925221681596, 0.4666925221681596, 0.5748915299773217, 0.5748915299773217, 0.4349706321954729, 0.4349706321954729, 0.5132768377661707, 0.5132768377661707, 0.39025462418794643, 0.39025462418794643, 0.43529066443443315, 0.43529066443443315, 0.40054003865368687, 0.40054003865368687, 0.6538253426551821, 0.6538253426551821, 0.6319610178470614, 0.6319610178470614, 0.5641907006502153, 0.5641907006502153, 0.39025462418794643, 0.39025462418794643, 0.43529066443443315, 0.43529066443443315, 0.3990237194215506, 0.3990237194215506, 0.6538253426551821, 0.6538253426551821, 0.6319610178470614, 0.6319610178470614, 0.5641907006502153, 0.5641907006502153, 0.4243871495127679, 0.4243871495127679, 0.47917055338621156, 0.47917055338621156, 0.4562665370190892, 0.4562665370190892, 0.6556645929813386, 0.6556645929813386, 0.37642066925764095, 0.37642066925764095, 0.388353753834963, 0.388353753834963, 0.4243871495127679, 0.4243871495127679, 0.47917055338621156, 0.47917055338621156, 0.41598901926629245, 0.41598901926629245, 0.6556645929813386, 0.6556645929813386, 0.37642066925764095, 0.37642066925764095, 0.388353753834963, 0.388353753834963, 0.37562546506524097, 0.37562546506524097, 0.4557921402156355, 0.4557921402156355, 0.6615326553583147, 0.6615326553583147, 0.5330269485712054, 0.5330269485712054, 0.4834366962313654, 0.4834366962313654, 0.5242112502455712, 0.5242112502455712, 0.37562546506524097, 0.37562546506524097, 0.4557921402156355, 0.4557921402156355, 0.6615326553583147, 0.6615326553583147, 0.5330269485712054, 0.5330269485712054, 0.4834366962313654, 0.4834366962313654, 0.5242112502455712, 0.5242112502455712, 0.6429922431707383, 0.6429922431707383, 0.6402705907821657, 0.6402705907821657, 0.5205148085951806, 0.5205148085951806, 0.5898978787576407, 0.5898978787576407, 0.663140192627907, 0.663140192627907, 0.48469229071490477, 0.48469229071490477, 0.6429922431707383, 0.6429922431707383, 0.6402705907821657, 0.6402705907821657, 0.5205148085951806, 0.5205148085951806, 0.61123456031926, 0.61123456031926, 0.663140192627907, 0.663140192627907, 0.5762031820500646, 0.5762031820500646],
  visuHardDb2: [0.46518022671484216, 0.457868588983156, 0.5429524262824876, 0.4476822650563589, 0.4904818962064307, 0.4962858379901668, 0.5717260575145364, 0.6285072926543939, 0.4978622738690412, 0.41743796846333925, 0.4891431902779182, 0.5200854281288945, 0.48661804274457215, 0.4899092799136526, 0.43035237336227583, 0.47746937603358575, 0.4958485845433906, 0.5219280617910226, 0.5794022959929248, 0.6284643304223589, 0.49851656557047297, 0.41653433187327416, 0.49117825266665976, 0.523854321850701, 0.45939927514533224, 0.46151727070909687, 0.4541958942434736, 0.4494037898901818, 0.44224525408330184, 0.4357208016733544, 0.5649252192084786, 0.6577611956522319, 0.522428380939439, 0.4482332095550283, 0.5341078853722336, 0.5770919748991928, 0.4452179998359322, 0.4493181547021605, 0.44147946971216734, 0.43683978722021316, 0.40444289253753024, 0.3794835204454927, 0.556384105358381, 0.6791964778076182, 0.5401083616237417, 0.47119626986642427, 0.5660798509865946, 0.6170745138355299, 0.35621031834455946, 0.4403486905808438, 0.41830271434111244, 0.4247087485243544, 0.5541259989838625, 0.6505824933821749, 0.6544011802259201, 0.6830420927925012, 0.4161777126522313, 0.5635844965266223, 0.48034401623106604, 0.45890528410629505, 0.4312497034859958, 0.34737691108605667, 0.3979287961711306, 0.41246169748128114, 0.3363818320627524, 0.28458158431312286, 0.5766573612609743, 0.7765918350947107, 0.3301915175366589, 0.6373703059292626, 0.4261478915274931, 0.35383066076979874, 0.39864873830815356, 0.3888785201946647, 0.44457511471253786, 0.48272992965479805, 0.5500988059558228, 0.6096397981081333, 0.43367222788057064, 0.6855422829939501, 0.44825288286963155, 0.4975495264362646, 0.501890820976447, 0.5182778649837261, 0.3948899180713652, 0.3943480934235165, 0.47326341495058577, 0.5308882583272043, 0.6482061156023227, 0.7495292780095582, 0.3081684520109339, 0.6439559627518207, 0.511639869162876, 0.4149644599358197, 0.5428166857999673, 0.6105069131629571, 0.5904049214406162, 0.5915218626987033, 0.59361409692406, 0.5954450021864531, 0.4527142216600624, 0.3487186280972581, 0.46722984308240645, 0.6953938502865026, 0.6242409011377958, 0.6332896887247643, 0.43074411276657365, 0.2848950756432858, 0.7325246647019669, 0.7373286474576172, 0.6894039177352134, 0.6556078039392373, 0.7192521559272345, 0.7567874137983039, 0.727960296314481, 0.6191849315343915, 0.7236550693160425, 0.7709862468967064, 0.7191315669719546, 0.6938536574663673],
  ycbcrSym2Rgb9x7: [0.44988054716637854, 0.37483103158843567, 0.453162135133782, 0.5061106722548347, 0.5142827730722765, 0.4537451581301029, 0.7242618565988052, 0.4299444442345206, 0.5350659874717427, 0.5329536202668399, 0.5920370055488264, 0.5947524862635342, 0.4436396647944262, 0.6153615503535573, 0.37129779348830494, 0.3996414207293149, 0.5092068176548757, 0.47164182454766845, 0.4812482263339832, 0.5717533037947516, 0.4011767012038077, 0.7729284332526597, 0.3924364888143246, 0.5574962752172362, 0.5129245480922459, 0.5194302451060997, 0.660342873969737, 0.5431421467460938, 0.3306996534516665, 0.5042705015894475, 0.47032753582180564, 0.49707814978477427, 0.6039961071579425, 0.7302955905506483, 0.44602520807583607, 0.45017299315584774, 0.5955366526089494, 0.6088750121629206, 0.36428746906860926, 0.4381310316950398, 0.45644715174589034, 0.5490424166700649, 0.5031968264332909, 0.3267505375513016, 0.4792488965546538, 0.45825159896303946, 0.4839021401797197, 0.552642657971173, 0.7585345961820941, 0.4452235588050693, 0.48316043854071866, 0.5202334704259008, 0.5894110442196769, 0.3376963867770845, 0.3974716281947878, 0.5310177256535626, 0.4883320030047751, 0.42600532164579985, 0.5083932709240091, 0.6902400612049056, 0.5545812712368354, 0.4513410546078431, 0.587516171017571, 0.6709127961504477, 0.4064059273103762, 0.5133330461834277, 0.45352041214667554, 0.519184682604399, 0.5095211449723148, 0.3700775394988696, 0.5115294658926347, 0.6726698673848065, 0.5004690303058571, 0.4377343706972996, 0.5303047060362605, 0.6511430570052779, 0.33828795376783527, 0.4896614750088121, 0.5801968208253159, 0.5307143215356269, 0.4146787404022249, 0.30327792774677736, 0.6219935423586497, 0.749010367119696, 0.36224273972174753, 0.5521359196137303, 0.6443019484019397, 0.3119621773533641, 0.5200219961250278, 0.6570961135906165, 0.28254653751447795, 0.4999337663447119, 0.5464593683677594, 0.2955547308368393, 0.504332812994661, 0.5194817709223489, 0.2544227584324132, 0.4656086606047929, 0.6785389735458729, 0.5756744403497837, 0.3113769846982389, 0.5258389694351372, 0.7223494516366398, 0.22087922051496223, 0.49107171635774866, 0.6673419882544287, 0.36891990662052354, 0.5063167548909832, 0.43586892577070546, 0.44083989075575053, 0.6684313502083882, 0.40117694602822956, 0.4917357553365763, 0.6734277353207369, 0.3892994019830213, 0.5204357698646341, 0.5994481489860924, 0.532490910715635, 0.4704773951674966, 0.4077213949787008, 0.402187797993888, 0.6075144537938986, 0.3182545564636293, 0.42801436651087565, 0.6340819002454047, 0.2648376081748204, 0.6304326065698953, 0.4381597144072477, 0.44272517017289814, 0.6653522129306971, 0.33409740841265034, 0.5686592190666702, 0.4072809514892127, 0.46457743996138984, 0.5899245300999898, 0.6038407488496194, 0.36264736191842434, 0.550913985152519, 0.3743608027840724, 0.49505259222314535, 0.5890867018186094, 0.39330985692686976, 0.5780721641789166, 0.30980630777606405, 0.6248683417584999, 0.4157372704934133, 0.4519279147451768, 0.36128509000942777, 0.519432877788801, 0.607263138323359, 0.3817894417713297, 0.4852069821374242, 0.7224250874856752, 0.5482590538563511, 0.5174360401545667, 0.38973165287261835, 0.7083673169637361, 0.4074182108028175, 0.4908717376846274, 0.3513607593937217, 0.44682387355985886, 0.6130315763773613, 0.5712556408940987, 0.5303246064279808, 0.4461163345049605, 0.384773502493517, 0.5083727359255839, 0.6045626805765953, 0.4412577573902181, 0.6484575841978238, 0.3848110777344703, 0.32023143386923414, 0.4109993010300953, 0.5641061431211079, 0.47404964852314, 0.5593813412328825, 0.3737452215708832, 0.7201869404998035, 0.46805422150922155, 0.4525804532932804, 0.5151473852378479, 0.5572258452521006, 0.35300643679490384, 0.6767187057777638, 0.4189945620593104, 0.5140718520477161, 0.41868030947116247, 0.5721139590387807, 0.673797137179566],
};

/** tolerance 0: every sample is the float32 rounding of scikit-image's float64 output; otherwise within `tolerance` of it */
function assertRoundsTo(actual: Float32Array, reference: number[], what: string, tolerance = 0): void {
  assert.equal(actual.length, reference.length, what);
  for (let i = 0; i < reference.length; i++) {
    const ok = tolerance === 0 ? actual[i] === Math.fround(reference[i]) : Math.abs(actual[i] - reference[i]) <= tolerance;
    assert.ok(ok, `${what} [${i}]: ${actual[i]} vs scikit-image ${reference[i]}`);
  }
}

/** Runs `body` with the SIMD kernels turned off (the float64 JavaScript path). */
function withoutSimd<T>(body: () => T): T {
  const before = process.env.HUSH_NO_SIMD;
  process.env.HUSH_NO_SIMD = '1';
  try {
    return body();
  } finally {
    if (before === undefined) delete process.env.HUSH_NO_SIMD;
    else process.env.HUSH_NO_SIMD = before;
  }
}

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-14 * Math.abs(b), `${what}: ${a} vs ${b}`);

test('sigma estimate and BayesShrink / VisuShrink thresholds equal scikit-image', () => {
  const g = asPlane(noisy(12, 10, 1, 99));
  const c = wavedec2(g, { wavelet: 'db1', level: 1 });
  const sigma = sigmaFromDetail(c.details[0].diagonal.data);
  close(sigma, SKIMAGE_WAVELET.sigma12x10, 'sigma');
  for (const k of ['horizontal', 'vertical', 'diagonal'] as const) close(bayesThreshold(c.details[0][k].data, sigma), SKIMAGE_WAVELET.bayes12x10[k], `bayes ${k}`);
  close(visuThreshold(120, sigma), SKIMAGE_WAVELET.visu12x10, 'visu');
  const c2 = wavedec2(g, { wavelet: 'db2', level: 2 });
  c2.details.forEach((d, l) => {
    for (const k of ['horizontal', 'vertical', 'diagonal'] as const) close(bayesThreshold(d[k].data, 0.1), SKIMAGE_WAVELET.bayesDb2Sigma01[l][k], `db2 level ${l} ${k}`);
  });
  // numpy.median: the middle value, or the mean of the two middle ones; exact zeros left out
  assert.equal(sigmaFromDetail(Float64Array.from([0, -3, 1, 2, 0])), 2 / 0.6744897501960817);
  assert.equal(sigmaFromDetail(Float64Array.from([4, -1, 0, 2, 3])), 2.5 / 0.6744897501960817);
  assert.equal(sigmaFromDetail(new Float64Array(4)), 0);
});

test('outputs equal scikit-image denoise_wavelet (BayesShrink soft, VisuShrink hard, YCbCr)', () => {
  const visu: DenoiseWaveletOptions = { sigma: 0.1, wavelet: 'db2', mode: 'hard', method: 'VisuShrink', waveletLevels: 2 };
  const ycbcr: DenoiseWaveletOptions = { colourSpace: 'ycbcr', wavelet: 'sym2' };
  // the SIMD path computes in float32, as scikit-image on float32 input: float32 round-off from the float64 outputs
  assertRoundsTo(denoiseWavelet(noisy(12, 10, 1, 99)).data, SKIMAGE_WAVELET.bayesDefault12x10, 'BayesShrink default, SIMD', 5e-7);
  assertRoundsTo(denoiseWavelet(noisy(12, 10, 1, 99), visu).data, SKIMAGE_WAVELET.visuHardDb2, 'VisuShrink hard db2, SIMD', 5e-7);
  assertRoundsTo(denoiseWavelet(noisy(9, 7, 3, 5), ycbcr).data, SKIMAGE_WAVELET.ycbcrSym2Rgb9x7, 'YCbCr sym2, SIMD', 5e-7);
  // the JavaScript fallback computes in float64: the float32 rounding of scikit-image's float64 outputs
  withoutSimd(() => {
    assertRoundsTo(denoiseWavelet(noisy(12, 10, 1, 99)).data, SKIMAGE_WAVELET.bayesDefault12x10, 'BayesShrink default');
    assertRoundsTo(denoiseWavelet(noisy(12, 10, 1, 99), visu).data, SKIMAGE_WAVELET.visuHardDb2, 'VisuShrink hard db2');
    // YCbCr planes are stored in float32 (as scikit-image's float32 path stores them), so an ulp or two of the channel range
    assertRoundsTo(denoiseWavelet(noisy(9, 7, 3, 5), ycbcr).data, SKIMAGE_WAVELET.ycbcrSym2Rgb9x7, 'YCbCr sym2', 2e-7);
  });
});

test('raises PSNR, grey and colour, every method and mode', () => {
  for (const channels of [1, 3] as const) {
    const clean = testPattern(64, 48, channels);
    const rng = createRng(17 + channels);
    const noisyIm = { ...clean, data: clean.data.map((v) => v + 0.1 * rng.normal()) };
    const before = psnr(clean, noisyIm, { dataRange: 1 });
    const cases: DenoiseWaveletOptions[] = [{}, { mode: 'hard' }, { method: 'VisuShrink', sigma: 0.1, wavelet: 'db2', waveletLevels: 3 }, { wavelet: 'sym8' }, { wavelet: 'db4', waveletLevels: 2, sigma: 0.1 }];
    if (channels === 3) cases.push({ colourSpace: 'ycbcr' }, { colourSpace: 'ycbcr', sigma: 15, rescaleSigma: false });
    for (const o of cases) {
      const after = psnr(clean, denoiseWavelet(noisyIm, o), { dataRange: 1 });
      // VisuShrink's universal threshold (0.4 here) wipes most detail of this busy pattern: a small gain only
      const gain = o.method === 'VisuShrink' ? 0 : 1.5;
      assert.ok(after > before + gain, `${channels} channels ${JSON.stringify(o)}: ${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
    }
  }
});

test('constant, tiny and odd-sized images; no clipping of physical values', () => {
  const flat = createImage(7, 5, 3, new Float32Array(105).fill(0.4));
  for (const o of [{}, { colourSpace: 'ycbcr' as const }]) {
    const r = denoiseWavelet(flat, o);
    assert.ok(r.data.every((v) => Math.abs(v - 0.4) < 1e-6), JSON.stringify(o));
  }
  for (const [w, h] of [
    [1, 1],
    [2, 2],
    [1, 9],
    [5, 3],
    [31, 17],
  ]) {
    for (const wavelet of ['db1', 'sym8'] as const) {
      const im = randomImage(w, h, 1, w + 100 * h);
      const r = denoiseWavelet(im, { wavelet, sigma: 0.05 });
      assert.equal(r.data.length, w * h);
      assert.ok(r.data.every(Number.isFinite), `${w}x${h} ${wavelet}`);
    }
  }
  // values far outside [0, 1] stay there (scikit-image clips integer inputs only)
  const big = randomImage(16, 16, 1, 5, 4000, -2000);
  const r = denoiseWavelet(big, { sigma: 100 });
  assert.ok(Math.min(...r.data) < -1000 && Math.max(...r.data) > 1000);
  // sigma 0: nothing is thresholded and the transform round trip gives the input back
  const id = denoiseWavelet(big, { sigma: 0, wavelet: 'db3' });
  // (float32 on the SIMD path: a few ulps of values up to 2000; measured 4.9e-4)
  const worst = maxAbsDiff(id.data, big.data);
  assert.ok(worst < 2e-3, `round trip: ${worst}`);
  const id64 = withoutSimd(() => denoiseWavelet(big, { sigma: 0, wavelet: 'db3' }));
  for (let i = 0; i < id64.data.length; i++) assert.ok(Math.abs(id64.data[i] - big.data[i]) < 1e-9 * 4000);
});

test('alpha untouched; NaN and masked samples filled from neighbours and restored', () => {
  const im = randomImage(20, 14, 4, 8);
  im.data[(5 * 20 + 6) * 4 + 2] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(9 * 20 + 1) * 4] = 1;
  im.data[(9 * 20 + 1) * 4] = 1e6;
  for (const colourSpace of ['rgb', 'ycbcr'] as const) {
    const r = denoiseWavelet({ ...im, mask }, { colourSpace, sigma: 0.1 });
    for (let p = 0; p < 280; p++) assert.equal(r.data[p * 4 + 3], im.data[p * 4 + 3]);
    assert.ok(Number.isNaN(r.data[(5 * 20 + 6) * 4 + 2]));
    assert.equal(r.data[(9 * 20 + 1) * 4], 1e6);
    let bad = 0;
    for (let i = 0; i < r.data.length; i++) if (!(Math.abs(r.data[i]) < 2)) bad++;
    assert.equal(bad, 2, `${colourSpace}: nothing spread from the missing samples`);
  }
  const ga = randomImage(9, 8, 2, 4);
  const rg = denoiseWavelet(ga);
  for (let p = 0; p < 72; p++) assert.equal(rg.data[p * 2 + 1], ga.data[p * 2 + 1]);
});

test('denoise with worker threads equals the single-thread result', async () => {
  const rgb = randomImage(300, 220, 3, 21);
  for (const o of [{ wavelet: 'db2' }, { colourSpace: 'ycbcr', sigma: 0.2 }] as DenoiseWaveletOptions[]) {
    let progress = 0;
    const par = await denoiseWaveletParallel(rgb, o, { threads: 2, minPixels: 0, onProgress: (f) => (progress = f) });
    assert.deepEqual(par.data, denoiseWavelet(rgb, o).data, JSON.stringify(o));
    assert.equal(progress, 1);
  }
  const grey = randomImage(30, 20, 1, 22);
  assert.deepEqual((await WAVELET_DENOISER.denoise(grey, {})).data, denoiseWavelet(grey).data);
});

test('rejects bad options with exact messages', () => {
  const im = randomImage(8, 8, 1, 1);
  const bad = (options: unknown, message: string, image: Image = im): void =>
    assert.throws(() => denoiseWavelet(image, options as DenoiseWaveletOptions), { code: 'ERR_INVALID_PARAMETER', message });
  bad(
    { wavelet: 'db9' },
    "denoiseWavelet: expected one of 'haar', 'db1', 'db2', 'db3', 'db4', 'db5', 'db6', 'db7', 'db8', 'sym2', 'sym3', 'sym4', 'sym5', 'sym6', 'sym7', 'sym8' for options.wavelet but received 'db9' (string). Did you mean 'db1'?",
  );
  bad({ mode: 'garrote' }, "denoiseWavelet: expected one of 'soft', 'hard' for options.mode but received 'garrote' (string).");
  bad({ method: 'bayes' }, "denoiseWavelet: expected one of 'BayesShrink', 'VisuShrink' for options.method but received 'bayes' (string).");
  bad({ sigma: -0.1 }, 'denoiseWavelet: expected a finite number of at least 0 for options.sigma but received -0.1 (number).');
  bad({ sigma: Infinity }, 'denoiseWavelet: expected a finite number of at least 0 for options.sigma but received Infinity (number).');
  bad({ waveletLevels: 0 }, 'denoiseWavelet: expected an integer from 1 to 30 for options.waveletLevels but received 0 (number).');
  bad({ waveletLevels: 2.5 }, 'denoiseWavelet: expected an integer from 1 to 30 for options.waveletLevels but received 2.5 (number).');
  bad({ colourSpace: 'lab' }, "denoiseWavelet: expected one of 'rgb', 'ycbcr' for options.colourSpace but received 'lab' (string). Did you mean 'rgb'?");
  bad({ colourSpace: 'ycbcr' }, "denoiseWavelet: expected 'rgb' for a grey image (YCbCr needs 3 colour channels) for options.colourSpace but received 'ycbcr' (string).");
  bad({ rescaleSigma: 'yes' }, "denoiseWavelet: expected a boolean for options.rescaleSigma but received 'yes' (string).");
  bad(
    { convert2ycbcr: true },
    "denoiseWavelet: expected only the options 'sigma', 'wavelet', 'mode', 'method', 'waveletLevels', 'colourSpace', 'rescaleSigma' for options but received 'convert2ycbcr' (string).",
  );
  bad('db2', "denoiseWavelet: expected an object for options but received 'db2' (string).");
  assert.throws(() => denoiseWavelet({ ...im, channels: 5 as Channels }), { message: 'denoiseWavelet: expected one of 1, 2, 3, 4 for image.channels but received 5 (number).' });
});

test('registry entry: id, parameters, grid', async () => {
  assert.equal(WAVELET_DENOISER.id, 'wavelet');
  assert.equal(WAVELET_DENOISER.usesSigma, true);
  assert.deepEqual(
    WAVELET_DENOISER.params.map((p) => [p.name, p.default]),
    [
      ['sigma', undefined],
      ['wavelet', 'db1'],
      ['mode', 'soft'],
      ['method', 'BayesShrink'],
      ['waveletLevels', undefined],
      ['colourSpace', 'rgb'],
      ['rescaleSigma', true],
    ],
  );
  for (const p of WAVELET_DENOISER.params) assert.ok(p.description.length > 20, p.name);
  assert.deepEqual(WAVELET_DENOISER.calibrationGrid(0.1), { sigma: [0.05, 0.075, 0.1, 0.125, 0.15, 0.2], mode: ['soft', 'hard'] });
  await assert.rejects(WAVELET_DENOISER.denoise(randomImage(4, 4, 1, 1), { wavelet: 'db0' }), { code: 'ERR_INVALID_PARAMETER' });
});
