import type { CommandSpec } from '../args.js';
import { numberOption, parseCommandArgs, stringOption, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { READ_OPTIONS, WRITE_OPTIONS, readOptions } from '../io-options.js';
import { createProgress } from '../progress.js';
import { PALETTE, writeLineChartPng, type PlotMarker, type PlotSeries } from '../plot.js';
import { collectMethodOptions, flagName, methodHelp, methodOptions, paramFlag, short, sigmaFromFlags, threadsFromFlags } from './denoise.js';
import { readImage } from '../../io/index.js';
import { sameShape } from '../../core/image.js';
import { checkOneOf } from '../../core/validate.js';
import { invalidParameter } from '../../core/errors.js';
import { DENOISER_REGISTRY, DENOISERS, type DenoiserInfo } from '../../denoise/index.js';
import { CALIBRATION_LOSSES, calibrateDenoiser, parseGrid, type CalibrateDenoiserResult, type CalibrationLoss } from '../../denoise/calibrate.js';
import { INTERPOLATIONS, type Interpolation } from '../../denoise/invariant.js';

const OWN_FLAGS = ['grid', 'reference', 'plot', 'stride', 'loss', 'interpolation', 'data-range'];

export const spec: CommandSpec = {
  name: 'calibrate',
  summary:
    "Tune a denoiser's parameters on IN itself, without a clean image: for every setting of a grid, the self-supervised loss of the method's J-invariant version (Noise2Self), which ranks settings as the true error does. Prints the table and the best setting; with --reference CLEAN also the true error of each setting.",
  usage: "hush calibrate IN --method METHOD [--grid 'h=0.02,0.04;patchSize=5,7'] [--reference CLEAN] [--plot loss.png] [--json]",
  options: {
    method: { type: 'string', short: 'm', valueName: 'METHOD', description: `denoiser: ${DENOISERS.join(', ') || '(none registered)'}` },
    grid: { type: 'string', valueName: 'GRID', description: "settings to try: 'name=v1,v2;name2=v3' (default: the method's grid for the estimated sigma)" },
    reference: { type: 'string', valueName: 'CLEAN', description: 'clean image: adds the true MSE and PSNR of every setting (one more denoiser run each)' },
    plot: { type: 'string', valueName: 'PNG', description: 'write a chart of loss against the main parameter (and the true error with --reference)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    stride: { type: 'string', valueName: 'W', description: 'J-invariant mask grid spacing (default 4: 16 masks)' },
    loss: { type: 'string', valueName: 'L', description: `${CALIBRATION_LOSSES.join('|')}: one mask, then more masks for the settings within noise of the best (default); one mask (as scikit-image); all stride^2 masks` },
    interpolation: { type: 'string', valueName: 'I', description: `how masked pixels are filled: ${INTERPOLATIONS.join('|')} (default renoised: the four-neighbour mean plus fresh noise; four-neighbour is scikit-image's)` },
    'data-range': { type: 'string', valueName: 'R', description: 'value range for PSNR with --reference (default 1)' },
    sigma255: { type: 'string', valueName: 'S', description: 'noise sigma in 8-bit units (sigma = S/255) instead of the estimate' },
    sigma: { type: 'string', valueName: 'S', description: "noise standard deviation on the image's scale (default: estimated)" },
    threads: { type: 'string', valueName: 'N', description: 'worker threads (default: all cores, or HUSH_THREADS)' },
    ...methodOptions(),
    ...WRITE_OPTIONS,
    ...READ_OPTIONS,
  },
  details: `Method flags (--h, --patch-size, ...) hold a parameter fixed across the grid.\n\nMethods:\n${methodHelp()}\n\n--force replaces an existing --plot file.`,
  examples: [
    'hush calibrate noisy.png --method nl-means',
    "hush calibrate noisy.png --method nl-means --grid 'h=0.02,0.04,0.06,0.08;patchSize=5,7' --plot loss.png",
    'hush calibrate noisy.npy --method tv-chambolle --reference clean.png --plot tv.png --json',
  ],
};

/** The parameter drawn on the x-axis: the numeric one with the most values (the first on ties). */
export function mainParameter(grid: Record<string, readonly (number | string)[]>): string | undefined {
  let best: string | undefined;
  for (const [k, v] of Object.entries(grid)) {
    if (v.length < 2 || !v.every((x) => typeof x === 'number')) continue;
    if (best === undefined || v.length > grid[best].length) best = k;
  }
  return best;
}

function settingText(params: Record<string, number | string>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${short(v)}`).join(' ');
}

/** Curves for the chart: one per combination of the other parameters, or one against the setting number. */
export function plotSeries(r: CalibrateDenoiserResult, grid: Record<string, readonly (number | string)[]>): { series: PlotSeries[]; xLabel: string; xTickLabels?: string[]; markers: PlotMarker[] } {
  const main = mainParameter(grid);
  const others = Object.keys(grid).filter((k) => k !== main && grid[k].length > 1);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < r.table.length; i++) {
    const key = others.map((k) => `${k}=${short(r.table[i].params[k])}`).join(' ');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  const withTruth = r.table.some((e) => e.mse !== undefined);
  const byIndex = main === undefined || groups.size > 4;
  const xOf = (i: number): number => (byIndex ? i : (r.table[i].params[main as string] as number));
  const series: PlotSeries[] = [];
  let k = 0;
  for (const [key, idx] of byIndex ? new Map([['', r.table.map((_, i) => i)]]) : groups) {
    const colour = PALETTE[k++ % PALETTE.length];
    const suffix = key ? ` (${key})` : '';
    series.push({ name: `self-supervised loss${suffix}`, x: idx.map(xOf), y: idx.map((i) => r.table[i].loss), colour });
    if (withTruth) series.push({ name: `true MSE${suffix}`, x: idx.map(xOf), y: idx.map((i) => r.table[i].mse as number), axis: 'right', dash: true, colour });
  }
  const markers: PlotMarker[] = [{ x: xOf(r.bestIndex), y: r.table[r.bestIndex].loss, label: 'calibrated', colour: '#000' }];
  if (withTruth) {
    let t = 0;
    for (let i = 1; i < r.table.length; i++) if ((r.table[i].mse as number) < (r.table[t].mse as number)) t = i;
    markers.push({ x: xOf(t), y: r.table[t].mse as number, axis: 'right', label: 'true best', colour: '#555' });
  }
  return {
    series,
    xLabel: byIndex ? 'setting' : (main as string),
    xTickLabels: byIndex ? r.table.map((_, i) => String(i + 1)) : undefined,
    markers,
  };
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length !== 1) throw usageError(spec, `expected one input image, got ${positionals.length}`);
  const inPath = positionals[0];
  if (values.method === undefined) throw usageError(spec, `missing --method (one of ${DENOISERS.join(', ')})`);
  const method = checkOneOf('hush calibrate', '--method', values.method, DENOISERS as readonly string[]);
  const info = (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[method];
  const allowed = new Set(['method', 'json', 'force', 'help', 'verbose', 'sigma', 'sigma255', 'threads', ...OWN_FLAGS, ...Object.keys(READ_OPTIONS), ...info.params.map((p) => paramFlag(info, p))]);
  for (const k of Object.keys(values)) {
    if (values[k] !== undefined && !allowed.has(k)) throw usageError(spec, `--${k} does not apply to --method ${info.id} (its flags: ${info.params.map((p) => `--${paramFlag(info, p)}`).join(' ')})`);
  }
  const gridText = stringOption(values, 'grid');
  const grid = gridText === undefined ? undefined : parseGrid(gridText, 'hush calibrate', '--grid');
  const stride = numberOption(spec, values, 'stride');
  const loss = values.loss === undefined ? undefined : (checkOneOf('hush calibrate', '--loss', values.loss, CALIBRATION_LOSSES) as CalibrationLoss);
  const interpolation = values.interpolation === undefined ? undefined : (checkOneOf('hush calibrate', '--interpolation', values.interpolation, INTERPOLATIONS) as Interpolation);
  const threads = threadsFromFlags(spec, values);
  const dataRange = numberOption(spec, values, 'data-range') ?? 1;
  if (!(dataRange > 0)) throw usageError(spec, `expected a number above 0 for --data-range but received ${dataRange}`);
  const plotPath = stringOption(values, 'plot');
  if (plotPath !== undefined && !/\.png$/i.test(plotPath)) throw invalidParameter('hush calibrate', '--plot', 'a path ending in .png', plotPath);

  const ro = readOptions(spec, values);
  const image = await readImage(inPath, ro);
  const refPath = stringOption(values, 'reference');
  const reference = refPath === undefined ? undefined : await readImage(refPath, ro);
  if (reference && !sameShape(reference, image)) {
    throw invalidParameter('hush calibrate', '--reference', `an image of ${image.width}x${image.height}x${image.channels} like IN`, `${reference.width}x${reference.height}x${reference.channels}`);
  }
  const sigma = sigmaFromFlags(spec, values, image, inPath);
  const fixed = collectMethodOptions(values, info);
  const progress = createProgress({ label: `calibrate ${info.id}`, write: io.stderr, isTTY: io.isTTY });
  const t0 = performance.now();
  let r: CalibrateDenoiserResult;
  try {
    r = await calibrateDenoiser(image, info, grid, { stride, loss, interpolation, sigma, fixed, reference, context: { threads, onProgress: (f) => progress.update(f) } });
  } finally {
    progress.done();
  }
  const seconds = (performance.now() - t0) / 1000;
  const usedGrid: Record<string, (number | string)[]> = {};
  for (const e of r.table) for (const [k, v] of Object.entries(e.params)) if (!(usedGrid[k] ??= []).includes(v)) usedGrid[k].push(v);
  const psnrOf = (m: number | undefined): number | undefined => (m === undefined ? undefined : m === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / m));
  let trueBest = -1;
  if (reference) for (let i = 0; i < r.table.length; i++) if (trueBest < 0 || (r.table[i].mse as number) < (r.table[trueBest].mse as number)) trueBest = i;

  if (plotPath !== undefined) {
    const p = plotSeries(r, usedGrid);
    await writeLineChartPng(
      plotPath,
      p.series,
      {
        title: `${info.id}: self-supervised calibration${reference ? ' and true error' : ''}`,
        xLabel: p.xLabel,
        yLabel: 'self-supervised loss (mean squared, J-invariant)',
        y2Label: reference ? 'true MSE (plain denoiser vs reference)' : undefined,
        xTickLabels: p.xTickLabels,
        markers: p.markers,
      },
      { ifExists: values.force ? 'overwrite' : 'error', protect: [inPath, ...(refPath ? [refPath] : [])] },
    );
  }

  if (values.json) {
    const table = r.table.map((e) => ({ ...e, psnr: psnrOf(e.mse) }));
    const out = { input: inPath, reference: refPath, ...r, table, trueBestIndex: reference ? trueBest : undefined, seconds, plot: plotPath };
    io.stdout(`${JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
    return 0;
  }
  // parameters the grid holds at one value go in the header, not in a column
  const keys = Object.keys(usedGrid).filter((k) => usedGrid[k].length > 1 || Object.keys(usedGrid).length === 1);
  const held = Object.keys(usedGrid).filter((k) => !keys.includes(k)).map((k) => `${k}=${short(usedGrid[k][0])}`);
  const head = ['', '#', ...keys, 'loss', ...(reference ? ['true MSE', 'PSNR'] : [])];
  const rows = r.table.map((e, i) => [
    (i === r.bestIndex ? '*' : ' ') + (i === trueBest ? '+' : ' '),
    String(i + 1),
    ...keys.map((k) => short(e.params[k])),
    e.loss.toPrecision(5),
    ...(reference ? [(e.mse as number).toPrecision(4), (psnrOf(e.mse) as number).toFixed(2)] : []),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const fmt = (row: string[]): string => row.map((cell, c) => (c < 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  const sigmaText = `sigma ${short(r.sigma)} ${sigma === undefined ? 'estimated' : 'given'}`;
  const lossText =
    r.loss === 'approximate' ? `approximate loss: 1 of ${r.stride * r.stride} masks` : r.loss === 'adaptive' ? `adaptive loss: ${r.calls} mask runs, ${r.table.length} settings` : `full loss: ${r.stride * r.stride} masks`;
  const lines = [
    `calibrate ${info.id} on ${inPath} (${image.width}x${image.height}, ${sigmaText}; ${lossText}, ${r.interpolation} fill; ${seconds.toFixed(1)} s)`,
    ...(held.length ? [`held: ${held.join(' ')}`] : []),
    fmt(head),
    ...rows.map(fmt),
    `best (*): ${settingText(r.table[r.bestIndex].params) || 'defaults'} — loss ${r.table[r.bestIndex].loss.toPrecision(4)}; shrinkage lambda ${r.lambda.toFixed(3)} (lambda f + (1 - lambda) x for the J-invariant output)`,
  ];
  if (reference) {
    const gap = (psnrOf(r.table[trueBest].mse) as number) - (psnrOf(r.table[r.bestIndex].mse) as number);
    lines.push(`true best (+): ${settingText(r.table[trueBest].params) || 'defaults'} — PSNR ${(psnrOf(r.table[trueBest].mse) as number).toFixed(2)} dB; calibrated setting ${gap.toFixed(2)} dB below it`);
  }
  const best = Object.entries(r.best)
    .map(([k, v]) => {
      const p = info.params.find((q) => q.name === k);
      return `--${p ? paramFlag(info, p) : flagName(k)} ${short(v, 6)}`;
    })
    .join(' ');
  lines.push(`denoise with: hush denoise ${inPath} -o OUT --method ${info.id}${best ? ` ${best}` : ''}`);
  if (plotPath) lines.push(`wrote ${plotPath}`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}
