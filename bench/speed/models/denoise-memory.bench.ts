/**
 * Peak memory of `hush denoise --model` on a huge image, end to end: a 10000 x 10000
 * grey 16-bit TIFF (seeded noise, written to a temporary folder) denoised with an
 * exported DnCNN (depth 8, width 32, random weights with a gentle last layer) through
 * onnxruntime-node in 512-pixel tiles, written as a 16-bit TIFF. The CLI runs in a
 * child process that reports its own peak RSS (process.resourceUsage().maxRSS), which
 * covers decoding, the float32 input and output (400 MB each), the tiles, the
 * onnxruntime arena and encoding. Target (issue #5): under 2 GB.
 *
 *   npm run build && node dist/bench/speed/models/denoise-memory.bench.js [--size 10000] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createImage } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';
import { writeImage } from '../../../src/io/index.js';
import { createModel } from '../../../src/models/index.js';
import { saveOnnx } from '../../../src/onnx/export.js';
import { loadTfjs } from '../../../src/runtime/tfjs.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '10000' }, keep: { type: 'boolean', default: false } } });
const size = Number(values.size);
const dir = mkdtempSync(join(tmpdir(), 'hush-memory-'));
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`machine: ${machine}`);
console.log(`command: node dist/bench/speed/models/denoise-memory.bench.js ${process.argv.slice(2).join(' ')}`.trim());
try {
  const { tf } = await loadTfjs();
  const model = await createModel('dncnn', { channels: 1, depth: 8, width: 32, seed: 1 });
  const last = model.model.layers.filter((l) => l.getClassName() === 'Conv2D').at(-1)!;
  last.setWeights(last.getWeights().map((w) => tf.mul(w, 0.02)));
  const onnx = join(dir, 'model.onnx');
  await saveOnnx(model, onnx);
  model.dispose();
  {
    const rng = createRng(7);
    const data = new Float32Array(size * size);
    for (let i = 0; i < data.length; i++) data[i] = 0.25 + 0.5 * rng.next();
    await writeImage(join(dir, 'big.tif'), createImage(size, size, 1, data), { bitDepth: 16 });
  }
  console.log(`input: ${size}x${size} grey 16-bit TIFF, ${(statSync(join(dir, 'big.tif')).size / 2 ** 20).toFixed(0)} MiB`);
  const main = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
  const child = `
    const { main } = await import(${JSON.stringify(main)});
    const t = performance.now();
    const code = await main(['denoise', ${JSON.stringify(join(dir, 'big.tif'))}, '-o', ${JSON.stringify(join(dir, 'out.tif'))}, '--model', ${JSON.stringify(onnx)}, '--max-pixels', '0'], { stdout: (s) => process.stderr.write(s), stderr: (s) => process.stderr.write(s), isTTY: false });
    console.log(JSON.stringify({ code, seconds: (performance.now() - t) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  const r = JSON.parse(out.trim().split('\n').at(-1) as string) as { code: number; seconds: number; maxRssMiB: number };
  console.log(`hush denoise --model (onnx, tiles 512/32): exit ${r.code}, ${r.seconds.toFixed(1)} s, ${((size * size) / 1e6 / r.seconds).toFixed(2)} MP/s, peak RSS ${r.maxRssMiB.toFixed(0)} MiB (target < 2048)`);
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/denoise-memory.json',
    JSON.stringify({ bench: 'denoise-memory', command: `node dist/bench/speed/models/denoise-memory.bench.js ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(), machine, size, model: 'dncnn depth 8 width 32 (onnx)', ...r, loadAtEnd: loadavg().map((l) => l.toFixed(2)).join(' ') }, null, 2),
  );
  console.log('wrote bench/results/denoise-memory.json');
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
