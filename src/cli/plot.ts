/**
 * Line charts for the CLI (the calibration curve of `hush calibrate --plot`): the
 * chart is drawn as SVG by hand and rasterised to PNG by sharp, which renders SVG
 * (librsvg), so no plotting dependency is needed. One x-axis, a left y-axis and an
 * optional right y-axis, as in the Noise2Self calibration figure (self-supervised loss
 * on the left, true error on the right).
 */
import { writeFileAtomic, type IfExists } from '../io/atomic-write.js';

export interface PlotSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** which y-axis the series uses (default 'left') */
  axis?: 'left' | 'right';
  /** dashed line (default solid) */
  dash?: boolean;
  /** CSS colour (default: from the palette, by series index) */
  colour?: string;
}

export interface PlotMarker {
  x: number;
  y: number;
  axis?: 'left' | 'right';
  label: string;
  colour?: string;
}

export interface LineChartOptions {
  title?: string;
  xLabel: string;
  yLabel: string;
  /** label of the right axis (shown when a series uses it) */
  y2Label?: string;
  /** text labels for x = 0, 1, 2, ... (categorical x-axis) instead of numeric ticks */
  xTickLabels?: readonly string[];
  markers?: readonly PlotMarker[];
  width?: number;
  height?: number;
}

/** Colour-blind-safe palette (Okabe & Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** "Nice" tick values covering [lo, hi] (Heckbert's labelling). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const nice = (v: number, round: boolean): number => {
    const e = Math.floor(Math.log10(v));
    const f = v / 10 ** e;
    const n = round ? (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) : f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return n * 10 ** e;
  };
  const step = nice(nice(hi - lo, false) / Math.max(1, count - 1), true);
  const out: number[] = [];
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** Short tick text: 0.0125 -> '0.0125', 12500 -> '12500', 1.25e-6 -> '1.25e-6'. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(6)));
  return v.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e');
}

interface Scale {
  lo: number;
  hi: number;
  ticks: number[];
}

function scaleFor(values: number[], count: number): Scale | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const ticks = niceTicks(Math.min(...finite), Math.max(...finite), count);
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks };
}

/** The chart as an SVG document. */
export function lineChartSvg(series: readonly PlotSeries[], options: LineChartOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 500;
  const hasRight = series.some((s) => s.axis === 'right');
  const m = { left: 90, right: hasRight ? 90 : 30, top: options.title ? 50 : 25, bottom: 70 };
  const legendRows = Math.ceil(series.length / 2);
  m.bottom += legendRows * 20;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const xs = series.flatMap((s) => s.x as number[]);
  const categorical = options.xTickLabels !== undefined;
  const xScale: Scale | undefined = categorical
    ? { lo: -0.5, hi: (options.xTickLabels as readonly string[]).length - 0.5, ticks: options.xTickLabels!.map((_, i) => i) }
    : scaleFor(xs, 6);
  const left = scaleFor(series.filter((s) => s.axis !== 'right').flatMap((s) => s.y as number[]), 6);
  const right = scaleFor(series.filter((s) => s.axis === 'right').flatMap((s) => s.y as number[]), 6);
  const X = (v: number): number => (xScale ? m.left + ((v - xScale.lo) / (xScale.hi - xScale.lo || 1)) * pw : m.left);
  const Y = (v: number, sc: Scale | undefined): number => (sc ? m.top + ph - ((v - sc.lo) / (sc.hi - sc.lo || 1)) * ph : m.top + ph);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Lato, sans-serif">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) parts.push(`<text x="${width / 2}" y="${m.top - 22}" text-anchor="middle" font-size="18" font-weight="bold">${escapeXml(options.title)}</text>`);
  // grid and axes
  for (const t of left?.ticks ?? []) {
    const y = Y(t, left);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y + 4}" text-anchor="end" font-size="12">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of right?.ticks ?? []) {
    const y = Y(t, right);
    parts.push(`<text x="${m.left + pw + 8}" y="${y + 4}" text-anchor="start" font-size="12">${escapeXml(formatTick(t))}</text>`);
  }
  const maxXLabels = Math.max(2, Math.floor(pw / 45));
  const every = categorical ? Math.max(1, Math.ceil((xScale?.ticks.length ?? 0) / maxXLabels)) : 1;
  (xScale?.ticks ?? []).forEach((t, i) => {
    const x = X(t);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    if (i % every !== 0) return;
    const text = categorical ? (options.xTickLabels as readonly string[])[i] : formatTick(t);
    parts.push(`<text x="${x}" y="${m.top + ph + 20}" text-anchor="middle" font-size="12">${escapeXml(text)}</text>`);
  });
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 42}" text-anchor="middle" font-size="14">${escapeXml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(${22},${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="14">${escapeXml(options.yLabel)}</text>`);
  if (hasRight && options.y2Label) {
    parts.push(`<text transform="translate(${width - 16},${m.top + ph / 2}) rotate(90)" text-anchor="middle" font-size="14">${escapeXml(options.y2Label)}</text>`);
  }
  // series
  series.forEach((s, k) => {
    const colour = s.colour ?? PALETTE[k % PALETTE.length];
    const sc = s.axis === 'right' ? right : left;
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) if (Number.isFinite(s.y[i]) && Number.isFinite(s.x[i])) pts.push(`${X(s.x[i]).toFixed(1)},${Y(s.y[i], sc).toFixed(1)}`);
    if (pts.length > 1) parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2.5"${s.dash ? ' stroke-dasharray="7,5"' : ''}/>`);
    for (const p of pts) {
      const [px, py] = p.split(',');
      parts.push(s.dash ? `<rect x="${Number(px) - 3.5}" y="${Number(py) - 3.5}" width="7" height="7" fill="white" stroke="${colour}" stroke-width="2"/>` : `<circle cx="${px}" cy="${py}" r="4" fill="${colour}"/>`);
    }
  });
  for (const mk of options.markers ?? []) {
    const sc = mk.axis === 'right' ? right : left;
    const x = X(mk.x);
    const y = Y(mk.y, sc);
    const colour = mk.colour ?? '#000';
    parts.push(`<circle cx="${x}" cy="${y}" r="9" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const anchor = x > m.left + pw * 0.75 ? 'end' : 'start';
    parts.push(`<text x="${anchor === 'end' ? x - 12 : x + 12}" y="${y - 12}" text-anchor="${anchor}" font-size="12" fill="${colour}">${escapeXml(mk.label)}</text>`);
  }
  // legend under the x label, two entries a row
  const colW = pw / 2;
  series.forEach((s, k) => {
    const colour = s.colour ?? PALETTE[k % PALETTE.length];
    const lx = m.left + (k % 2) * colW;
    const ly = m.top + ph + 62 + Math.floor(k / 2) * 20;
    parts.push(`<line x1="${lx}" x2="${lx + 28}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2.5"${s.dash ? ' stroke-dasharray="7,5"' : ''}/>`);
    parts.push(`<text x="${lx + 34}" y="${ly + 4}" font-size="12">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Renders the chart to PNG bytes with sharp (loaded on demand). */
export async function lineChartPng(series: readonly PlotSeries[], options: LineChartOptions): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp');
  const svg = lineChartSvg(series, options);
  return new Uint8Array(await sharp(Buffer.from(svg), { density: 72 }).png({ palette: true, compressionLevel: 9 }).toBuffer());
}

export async function writeLineChartPng(
  path: string,
  series: readonly PlotSeries[],
  options: LineChartOptions,
  write: { ifExists?: IfExists; protect?: readonly string[] } = {},
): Promise<void> {
  await writeFileAtomic(path, await lineChartPng(series, options), write);
}
