/**
 * Memory of tiled inference: inferTiled on a 10000 x 10000 grey float32 image (seeded
 * noise, made in memory) with a cheap runner (a 3x3 box filter in JavaScript, NCHW,
 * so the network costs almost nothing and the tiling machinery shows), against the
 * same runner given the whole image as one tile, the alternative without tiling.
 * Each mode runs in its own child process, so that process's peak RSS
 * (process.resourceUsage().maxRSS) is its own; the input and output buffers are 400 MB
 * each at the default size, and what tiling adds should be a few tiles on top.
 *
 *   npm run build && node dist/bench/speed/models/tiled-memory.bench.js [--size 10000] [--tile 512] [--overlap 32] [--batch 1]
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createImage } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';
import { inferTiled, planTileGrid, type TileRunner } from '../../../src/runtime/tiled.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    tile: { type: 'string', default: '512' },
    overlap: { type: 'string', default: '32' },
    batch: { type: 'string', default: '1' },
    mode: { type: 'string' },
  },
});
const size = Number(values.size);
const tileOverlap = Number(values.overlap);
const batchSize = Number(values.batch);
const MB = 1024 * 1024;

/** 3x3 mean of each NCHW plane, edges clamped. */
const boxRunner: TileRunner = {
  channels: 1,
  multiple: 1,
  async run(b, n, c, h, w) {
    const out = new Float32Array(b.length);
    for (let p = 0; p < n * c; p++) {
      const o = p * h * w;
      for (let y = 0; y < h; y++) {
        const up = o + Math.max(0, y - 1) * w;
        const mid = o + y * w;
        const down = o + Math.min(h - 1, y + 1) * w;
        for (let x = 0; x < w; x++) {
          const l = Math.max(0, x - 1);
          const r = Math.min(w - 1, x + 1);
          out[mid + x] = (b[up + l] + b[up + x] + b[up + r] + b[mid + l] + b[mid + x] + b[mid + r] + b[down + l] + b[down + x] + b[down + r]) / 9;
        }
      }
    }
    return out;
  },
};

interface Row {
  mode: string;
  tileSize: number;
  tiles: number;
  tileSide: number;
  seconds: number;
  mpPerSecond: number;
  baselineMB: number;
  afterInputMB: number;
  peakMB: number;
  /** peak minus the RSS after the input existed, minus the output buffer */
  beyondInputOutputMB: number;
}

async function measure(mode: 'tiled' | 'whole'): Promise<Row> {
  const baseline = process.resourceUsage().maxRSS * 1024;
  const image = createImage(size, size, 1);
  createRng(1).fillNormal(image.data, 0.5, 0.1);
  const afterInput = process.memoryUsage().rss;
  const tileSize = mode === 'tiled' ? Number(values.tile) : size + 2 * tileOverlap;
  const grid = planTileGrid(size, size, { tileSize, tileOverlap });
  const t0 = performance.now();
  const out = await inferTiled(image, boxRunner, { tileSize, tileOverlap, batchSize });
  const seconds = (performance.now() - t0) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  if (out.data.length !== image.data.length) throw new Error('wrong output size');
  return {
    mode,
    tileSize,
    tiles: grid.count,
    tileSide: grid.columns.size,
    seconds,
    mpPerSecond: (size * size) / 1e6 / seconds,
    baselineMB: baseline / MB,
    afterInputMB: afterInput / MB,
    peakMB: peak / MB,
    beyondInputOutputMB: (peak - afterInput - out.data.byteLength) / MB,
  };
}

if (values.mode === 'tiled' || values.mode === 'whole') {
  console.log(JSON.stringify(await measure(values.mode)));
} else {
  const self = fileURLToPath(import.meta.url);
  const args = process.argv.slice(2);
  const rows: Row[] = (['tiled', 'whole'] as const).map((mode) => {
    const text = execFileSync(process.execPath, [self, ...args, '--mode', mode], { encoding: 'utf8', maxBuffer: 1 << 20 });
    return JSON.parse(text.trim().split('\n').pop() as string) as Row;
  });
  const command = `node dist/bench/speed/models/tiled-memory.bench.js ${args.join(' ')}`.trim();
  console.log(`${size}x${size} grey float32 (input and output ${((size * size * 4) / MB).toFixed(0)} MB each), 3x3 box-filter runner, overlap ${tileOverlap}, batch ${batchSize}`);
  console.log(`${cpus().length} x ${cpus()[0].model}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('mode  | tile  | tiles | side  | time s | MP/s | peak RSS MB | beyond input+output MB');
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(5)} | ${String(r.tileSize).padStart(5)} | ${String(r.tiles).padStart(5)} | ${String(r.tileSide).padStart(5)} | ${r.seconds.toFixed(2).padStart(6)} | ${r.mpPerSecond.toFixed(1).padStart(4)} | ${r.peakMB.toFixed(0).padStart(11)} | ${r.beyondInputOutputMB.toFixed(0).padStart(6)}`,
    );
  }
  console.log(`peak RSS, tiled / whole: ${(rows[0].peakMB / rows[1].peakMB).toFixed(2)}`);
  console.log(`command: ${command}`);
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/tiled-memory.json',
    `${JSON.stringify({ bench: 'tiled-memory', command, date: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0].model}`, load: loadavg(), size, tileOverlap, batchSize, rows }, null, 2)}\n`,
  );
}
