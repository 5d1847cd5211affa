/**
 * U-net training-step speed: hush's onnx engine (OnnxTrainer) against its tfjs engine
 * and PyTorch, in the same run, on the same architectures: the U-net presets 'baby'
 * (Noise2Self's: residual conv-BN-LeakyReLU blocks, average pooling, bilinear
 * up-sampling, 75.5k trainable parameters) on a 16x64x64 grey batch and 'noise2same' (the
 * Noise2Same U-net: pre-activation blocks, strided convs down, 2x2 transposed convs
 * up, widths 96-192-384) on a 4x64x64 batch. Adam + MSE, batch norm in training mode.
 * PyTorch's copy has the same layers and parameter counts; its bilinear up-sampling
 * (align_corners=False) uses half-pixel centres where tfjs's does not, which changes
 * the values, not the cost. PyTorch runs in a persistent python3 process with
 * torch.set_num_threads(2); the
 * sides alternate step by step, so load from other jobs falls on each alike. The tfjs
 * engine (wasm, one thread in Node) is slow, so it gets --tfjs-reps steps.
 *
 *   npm run build && node dist/bench/speed/models/unet-train-step.bench.js [--reps 5] [--tfjs-reps 2] [--python /usr/bin/python3]
 *
 * Writes bench/results/unet-train-step.json.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { loadTfjs } from '../../../src/runtime/tfjs.js';
import { countFlops, createModel } from '../../../src/models/index.js';
import { DataParallelTrainer } from '../../../src/models/data-parallel.js';
import { OnnxTrainer } from '../../../src/training/onnx-trainer.js';
import { createRng } from '../../../src/core/rng.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    'tfjs-reps': { type: 'string', default: '2' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const reps = Number(values.reps);
const tfjsReps = Number(values['tfjs-reps']);
const SIZE = 64;

// the same networks as src/models/unet.ts builds for the two presets
const TORCH = String.raw`
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(self, cin, f, kind):
        super().__init__()
        self.kind = kind
        self.short = nn.Conv2d(cin, f, 1) if cin != f else nn.Identity()
        if kind == 'residual':
            self.body = nn.Sequential(nn.Conv2d(cin, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, momentum=0.1, eps=1e-5), nn.LeakyReLU(0.01),
                                      nn.Conv2d(f, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, momentum=0.1, eps=1e-5), nn.LeakyReLU(0.01))
        else:
            self.body = nn.Sequential(nn.BatchNorm2d(cin, momentum=0.1, eps=1e-5), nn.ReLU(), nn.Conv2d(cin, f, 3, padding=1),
                                      nn.BatchNorm2d(f, momentum=0.1, eps=1e-5), nn.ReLU(), nn.Conv2d(f, f, 3, padding=1))
    def forward(self, x):
        return self.body(x) + self.short(x)
class Unet(nn.Module):
    def __init__(self, widths, kind, down, up):
        super().__init__()
        self.widths, self.down, self.up = widths, down, up
        c = 1
        self.stem = nn.Conv2d(1, widths[0], 3, padding=1) if kind == 'preact' else None
        if self.stem is not None: c = widths[0]
        self.enc = nn.ModuleList(); self.downs = nn.ModuleList()
        for l, w in enumerate(widths):
            if l > 0:
                self.downs.append(nn.Conv2d(c, w, 3, stride=2, padding=1) if down == 'strided' else nn.Identity())
                if down == 'strided': c = w
            self.enc.append(Block(c, w, kind)); c = w
        self.ups = nn.ModuleList(); self.dec = nn.ModuleList()
        for l in range(len(widths) - 2, -1, -1):
            if up == 'transposed':
                self.ups.append(nn.ConvTranspose2d(c, widths[l], 2, stride=2)); c = widths[l]
            else:
                self.ups.append(nn.Identity())
            self.dec.append(Block(c + widths[l], widths[l], kind)); c = widths[l]
        self.out = nn.Conv2d(c, 1, 1)
    def forward(self, x):
        if self.stem is not None: x = self.stem(x)
        skips = []
        for l, blk in enumerate(self.enc):
            if l > 0: x = self.downs[l - 1](x) if self.down == 'strided' else F.avg_pool2d(x, 2)
            x = blk(x); skips.append(x)
        for i, l in enumerate(range(len(self.widths) - 2, -1, -1)):
            x = self.ups[i](x) if self.up == 'transposed' else F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
            x = self.dec[i](torch.cat([x, skips[l]], 1))
        return self.out(x)
nets = {}
print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    name = cmd["name"]
    if name not in nets:
        net = Unet([16, 32, 32], 'residual', 'avg', 'bilinear') if name == 'baby' else Unet([96, 192, 384], 'preact', 'strided', 'transposed')
        x = torch.rand(cmd["batch"], 1, 64, 64); y = torch.rand(cmd["batch"], 1, 64, 64)
        nets[name] = (net, torch.optim.Adam(net.parameters(), 1e-3), x, y, sum(p.numel() for p in net.parameters()))
    net, opt, x, y, count = nets[name]
    times = []
    for _ in range(cmd["steps"]):
        t = time.perf_counter()
        net.train(); opt.zero_grad(); loss = ((net(x) - y) ** 2).mean(); loss.backward(); opt.step()
        times.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"times": times, "params": count}), flush=True)
`;

const proc = spawn(values.python as string, ['-c', TORCH]);
proc.stderr.on('data', (d) => process.stderr.write(d));
const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
const torchInfo = JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
const torchRun = async (name: string, batch: number, steps: number) => {
  proc.stdin.write(`${JSON.stringify({ name, batch, steps })}\n`);
  return JSON.parse((await lines.next()).value as string) as { times: number[]; params: number };
};

const median = (a: number[]) => (a.length === 0 ? NaN : a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)]);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const { tf, backend } = await loadTfjs();
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const command = `node dist/bench/speed/models/unet-train-step.bench.js ${process.argv.slice(2).join(' ')}`.trim();
console.log(`machine: ${machine}`);
console.log(`hush: onnxruntime-node (OnnxTrainer, 2 threads) and tfjs ${tf.version.tfjs} (${backend}, 1 thread); PyTorch ${String(torchInfo.torch)}, ${String(torchInfo.threads)} threads`);
console.log(`load average at start: ${load()}`);
console.log(`command: ${command}`);

const results: Record<string, unknown>[] = [];
for (const { preset, batch } of [
  { preset: 'baby', batch: 16 },
  { preset: 'noise2same', batch: 4 },
]) {
  const rng = createRng(1);
  const n = batch * SIZE * SIZE;
  const input = new Float32Array(n).map(() => rng.next());
  const target = new Float32Array(n).map(() => rng.next());
  const shape = [batch, SIZE, SIZE, 1];
  const model = await createModel('unet', { preset, channels: 1, seed: 1 });
  const flopsStep = 3 * countFlops(model.model, SIZE, SIZE) * batch;
  const ort = await OnnxTrainer.create(model.model, { threads: 2, loss: 'l2' });
  const twin = await createModel('unet', { preset, channels: 1, seed: 1 });
  const tfjsTrainer = await DataParallelTrainer.create(twin.model, tf.train.adam(1e-3), { threads: 1 });
  const onnxStep = async () => {
    const t0 = performance.now();
    await ort.step({ input: input.slice(), target: target.slice(), shape }, 1e-3);
    return performance.now() - t0;
  };
  const tfjsStep = async () => {
    const t0 = performance.now();
    await tfjsTrainer.step({ inputs: [input.slice()], inputShapes: [shape], target: target.slice(), targetShape: shape }, { kind: 'l2' });
    return performance.now() - t0;
  };
  // warm-up: onnxruntime's first steps grow its memory arena (2-3 s each here, then 0.6 s for baby)
  for (let i = 0; i < 3; i++) await onnxStep();
  await tfjsStep();
  const torchWarm = await torchRun(preset, batch, 2);
  const o: number[] = [];
  const p: number[] = [];
  const t: number[] = [];
  const loads: string[] = [];
  for (let r = 0; r < reps; r++) {
    loads.push(load());
    o.push(await onnxStep());
    p.push(...(await torchRun(preset, batch, 1)).times);
    if (r < tfjsReps) t.push(await tfjsStep());
  }
  const row = {
    model: `unet:${preset}`,
    parameters: model.model.trainableWeights.reduce((k, w) => k + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0),
    torchParameters: torchWarm.params,
    batch: `${batch}x1x${SIZE}x${SIZE}`,
    flopsPerStep: flopsStep,
    onnxMsPerStep: median(o),
    tfjsMsPerStep: median(t),
    torchMsPerStep: median(p),
    onnxOverTorch: median(o) / median(p),
    tfjsOverOnnx: median(t) / median(o),
    onnxGflops: flopsStep / median(o) / 1e6,
    torchGflops: flopsStep / median(p) / 1e6,
    samples: { onnx: o, tfjs: t, torch: p },
    loadDuring: loads,
  };
  results.push(row);
  console.log(`\n${row.model} (${row.parameters} trainable parameters; PyTorch's copy ${row.torchParameters}), batch ${row.batch}, Adam + MSE (${(flopsStep / 1e9).toFixed(1)} GFLOP per step)`);
  console.log(`  hush onnx ${row.onnxMsPerStep.toFixed(0).padStart(6)} ms (${row.onnxGflops.toFixed(1)} GFLOPS)   PyTorch ${row.torchMsPerStep.toFixed(0).padStart(6)} ms (${row.torchGflops.toFixed(1)} GFLOPS)   onnx/PyTorch ${row.onnxOverTorch.toFixed(2)}x`);
  console.log(`  hush tfjs ${row.tfjsMsPerStep.toFixed(0).padStart(6)} ms (${t.length} steps)   tfjs/onnx ${row.tfjsOverOnnx.toFixed(1)}x`);
  console.log(`  load averages during: ${loads.join(' | ')}`);
  await ort.dispose();
  await tfjsTrainer.dispose();
  model.dispose();
  twin.dispose();
}
proc.stdin.end();
console.log(`\nload average at end: ${load()}`);
await mkdir('bench/results', { recursive: true });
await writeFile('bench/results/unet-train-step.json', `${JSON.stringify({ bench: 'unet-train-step', command, date: new Date().toISOString(), machine, torch: torchInfo, results }, null, 2)}\n`);
