/**
 * Inference throughput of hush's ONNX path against PyTorch on the CPU, in the same
 * run: DnCNN (depth 17, width 64, batch norm folded) on a 1024x1024 grey image and the
 * Astro U-net (5 levels 32..512, exposure-ratio channel) on a 1024x1024 grey image,
 * random weights. hush runs the exported ONNX model in onnxruntime-node (2 intra-op
 * threads) through the product path, denoiseWithModel (tiles of 512 with 32 pixels
 * of overlap: about 30 % more pixels than the image), and also as one 1024x1024 tile
 * (the same work as PyTorch). PyTorch (Debian's python3-torch) runs the same
 * architecture in eval mode under no_grad on 2 threads, in a persistent process; the
 * two sides alternate so that load from other jobs falls on both.
 *
 * Also measures a 2048x2048 float32 MatMul in onnxruntime as the practical FP32 peak
 * of the machine, and prints the theoretical peak worked out from the CPU (see docs).
 *
 *   npm run build && node dist/bench/speed/models/inference.bench.js [--reps 5] [--python /usr/bin/python3] [--threads 2]
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { createImage } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';
import { countFlops, createModel } from '../../../src/models/index.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { loadOnnxModel, loadOrt } from '../../../src/runtime/onnx.js';
import { inferTiled } from '../../../src/runtime/tiled.js';
import { loadTfjs } from '../../../src/runtime/tfjs.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    python: { type: 'string', default: '/usr/bin/python3' },
    threads: { type: 'string', default: '2' },
  },
});
const reps = Number(values.reps);
const threads = Number(values.threads);
const SIZE = 1024;

const TORCH = String.raw`
import json, sys, time
import torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)
def dncnn(depth=17, width=64):
    layers = [nn.Conv2d(1, width, 3, padding=1), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    layers += [nn.Conv2d(width, 1, 3, padding=1)]
    return nn.Sequential(*layers)
class Astro(nn.Module):
    def __init__(self, widths=(32, 64, 128, 256, 512)):
        super().__init__()
        self.widths = widths
        def block(i, o): return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(o, o, 3, padding=1), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList()
        c = 1
        for l, w in enumerate(widths):
            self.down.append(block(c + (1 if l == len(widths) - 1 else 0), w)); c = w
        self.ups = nn.ModuleList(); self.ublocks = nn.ModuleList()
        for l in range(len(widths) - 2, -1, -1):
            self.ups.append(nn.ConvTranspose2d(c, widths[l], 2, stride=2)); self.ublocks.append(block(2 * widths[l], widths[l])); c = widths[l]
        self.out = nn.Conv2d(c, 1, 1)
        self.pool = nn.MaxPool2d(2)
    def forward(self, x, ratio):
        skips = []
        for l, b in enumerate(self.down):
            if l > 0: x = self.pool(x)
            if l == len(self.down) - 1: x = torch.cat([x, ratio.view(-1, 1, 1, 1).expand(-1, 1, x.shape[2], x.shape[3])], 1)
            x = b(x); skips.append(x)
        for up, b, s in zip(self.ups, self.ublocks, reversed(skips[:-1])):
            x = b(torch.cat([up(x), s], 1))
        return self.out(x)
nets = {"dncnn": dncnn().eval(), "astro": Astro().eval()}
params = {k: sum(p.numel() for p in v.parameters()) for k, v in nets.items()}
x = torch.rand(1, 1, 1024, 1024); r = torch.full((1,), 2.0)
print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "params": params}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    net = nets[cmd["net"]]
    times = []
    with torch.no_grad():
        for _ in range(cmd["reps"]):
            t = time.perf_counter()
            y = net(x) if cmd["net"] == "dncnn" else net(x, r)
            times.append(time.perf_counter() - t)
    print(json.dumps({"times": times}), flush=True)
`;

class Torch {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  info: { torch?: string; threads?: number; params?: Record<string, number> } = {};
  constructor(python: string) {
    this.proc = spawn(python, ['-c', TORCH, String(threads)]);
    this.proc.stderr.on('data', (d) => process.stderr.write(d));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async start(): Promise<void> {
    this.info = JSON.parse((await this.lines.next()).value as string);
  }
  async run(net: string, n: number): Promise<number[]> {
    this.proc.stdin.write(`${JSON.stringify({ net, reps: n })}\n`);
    return (JSON.parse((await this.lines.next()).value as string) as { times: number[] }).times;
  }
  stop(): void {
    this.proc.stdin.end();
  }
}

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

await loadTfjs();
const ort = await loadOrt();
const torch = new Torch(values.python as string);
await torch.start();
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`machine: ${machine}`);
console.log(`hush: onnxruntime-node ${ort.env.versions.node ?? '?'}, ${threads} intra-op threads; PyTorch ${String(torch.info.torch)}, ${String(torch.info.threads)} threads`);
console.log(`load average at start: ${load()}`);
console.log(`command: node dist/bench/speed/models/inference.bench.js ${process.argv.slice(2).join(' ')}`.trim());

// practical peak: a large MatMul in onnxruntime
async function matmulPeak(): Promise<number> {
  // a one-node ONNX graph built by hand would need the proto writer; use the exporter on a Dense-only model instead
  const { tf } = await loadTfjs();
  const n = 2048;
  const inp = tf.input({ shape: [n] });
  const dense = tf.layers.dense({ units: n, useBias: false }).apply(inp) as never;
  const model = tf.model({ inputs: inp, outputs: dense });
  const session = await ort.InferenceSession.create(exportOnnx(model), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const x = new ort.Tensor('float32', new Float32Array(n * n).fill(0.5), [n, n]);
  await session.run({ [session.inputNames[0]]: x });
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await session.run({ [session.inputNames[0]]: x });
    times.push((performance.now() - t) / 1000);
  }
  await session.release();
  model.dispose();
  return (2 * n * n * n) / median(times) / 1e9;
}
const peak = await matmulPeak();
console.log(`onnxruntime 2048x2048 MatMul: ${peak.toFixed(0)} GFLOPS (practical FP32 peak on ${threads} threads)`);

const rng = createRng(1);
const image = createImage(SIZE, SIZE, 1, new Float32Array(SIZE * SIZE).map(() => rng.next()));
const results: Record<string, unknown>[] = [];
for (const [name, arch, options, ratio] of [
  ['dncnn(17, 64)', 'dncnn', { depth: 17, width: 64 }, undefined],
  ['unet(astro)', 'unet', { preset: 'astro' }, 2],
] as const) {
  const model = await createModel(arch, { channels: 1, ...options, seed: 1 });
  const flops = countFlops(model.model, SIZE, SIZE);
  const onnx = await loadOnnxModel(exportOnnx(model), { threads });
  const key = arch === 'dncnn' ? 'dncnn' : 'astro';
  const hushRun = async (tileSize: number, tileOverlap: number) => {
    const t = performance.now();
    await inferTiled(image, onnx, { tileSize, tileOverlap, exposureRatio: ratio });
    return (performance.now() - t) / 1000;
  };
  // warm-up
  await hushRun(512, 32);
  await hushRun(1024, 0);
  await torch.run(key, 1);
  const tiled: number[] = [];
  const whole: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < reps; i++) {
    tiled.push(await hushRun(512, 32));
    whole.push(await hushRun(1024, 0));
    py.push(...(await torch.run(key, 1)));
  }
  const mp = (SIZE * SIZE) / 1e6;
  const row = {
    model: name,
    image: `${SIZE}x${SIZE} grey`,
    parameters: model.model.countParams(),
    torchParameters: torch.info.params?.[key],
    gflopPerImage: flops / 1e9,
    hushTiledSeconds: median(tiled),
    hushOneTileSeconds: median(whole),
    torchSeconds: median(py),
    hushTiledMpixPerS: mp / median(tiled),
    hushOneTileMpixPerS: mp / median(whole),
    torchMpixPerS: mp / median(py),
    ratioTiled: median(py) / median(tiled),
    ratioOneTile: median(py) / median(whole),
    hushOneTileGflops: flops / median(whole) / 1e9,
    torchGflops: flops / median(py) / 1e9,
    fractionOfPracticalPeak: flops / median(whole) / 1e9 / peak,
    samples: { tiled, whole, torch: py },
    loadAfter: load(),
  };
  results.push(row);
  console.log(
    `${name.padEnd(14)} ${row.parameters} params (torch ${String(row.torchParameters)}), ${row.gflopPerImage.toFixed(1)} GFLOP/image | hush tiled ${row.hushTiledMpixPerS.toFixed(3)} MP/s, one tile ${row.hushOneTileMpixPerS.toFixed(3)} MP/s (${row.hushOneTileGflops.toFixed(0)} GFLOPS) | PyTorch ${row.torchMpixPerS.toFixed(3)} MP/s (${row.torchGflops.toFixed(0)} GFLOPS) | ratio tiled ${row.ratioTiled.toFixed(2)}x, one tile ${row.ratioOneTile.toFixed(2)}x`,
  );
  await onnx.dispose();
  model.dispose();
}
torch.stop();
await mkdir('bench/results', { recursive: true });
await writeFile(
  'bench/results/inference.json',
  JSON.stringify({ bench: 'inference', command: `node dist/bench/speed/models/inference.bench.js ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(), machine, threads, practicalPeakGflops: peak, loadAtEnd: load(), results }, null, 2),
);
console.log('wrote bench/results/inference.json');
