/**
 * GAN training-step speed (ImageDenoisingGAN, README preset without the VGG feature
 * loss) against PyTorch on the CPU, in the same run: hush's OnnxGanTrainer (one
 * onnxruntime graph per step) and tfjs (gan.ts's tfjsGanStep, wasm backend) against
 * the same generator and discriminator written in PyTorch (9x9/3x3 conv-BN-LeakyReLU
 * generator with 3 residual blocks and additive skips, sigmoid output; 4x4
 * discriminator, three at stride 2, with TensorFlow's 'same' padding), the same step
 * (D on clean and fake, then G through D in eval mode: 0.5 BCE + l2 half-sum + 0.0001
 * smoothness half-sum, Adam beta1 0.5). Batch 7 x 64 x 64 RGB. PyTorch runs in a
 * persistent python3 process with torch.set_num_threads(2); the sides alternate step
 * by step so load from other jobs falls on both alike. Prints ms/step (median),
 * CPU time per step and the ratios; writes bench/results/gan-step.json.
 *
 *   npm run build && node dist/bench/speed/models/gan-step.bench.js [--reps 5] [--tfjs-reps 2] [--python /usr/bin/python3]
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import type { Optimizer, Tensor4D } from '@tensorflow/tfjs';
import { loadTfjs } from '../../../src/runtime/tfjs.js';
import { createModel } from '../../../src/models/index.js';
import { OnnxGanTrainer } from '../../../src/training/onnx-gan-trainer.js';
import { GAN_PRESETS, tfjsGanStep } from '../../../src/training/gan.js';
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
const [N, S, C] = [7, 64, 3];

const TORCH = String.raw`
import json, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)
torch.manual_seed(0)
def cbl(ci, co, k, s=1):
    return [nn.Conv2d(ci, co, k, s, bias=False), nn.BatchNorm2d(co, momentum=0.1, eps=1e-5), nn.LeakyReLU(0.2)]
class Same(nn.Module):
    # TensorFlow 'same' padding in front of a convolution
    def __init__(self, k, s): super().__init__(); self.k, self.s = k, s
    def forward(self, x):
        h, w = x.shape[2:]
        ph = max((-(-h // self.s) - 1) * self.s + self.k - h, 0); pw = max((-(-w // self.s) - 1) * self.s + self.k - w, 0)
        return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
def block(ci, co, k, s=1):
    return nn.Sequential(Same(k, s), *cbl(ci, co, k, s))
class G(nn.Module):
    def __init__(self, k=32):
        super().__init__()
        self.e1, self.e2, self.e3 = block(3, k, 9), block(k, 2 * k, 3), block(2 * k, 4 * k, 3)
        self.res = nn.ModuleList([nn.Sequential(block(4 * k, 4 * k, 3), block(4 * k, 4 * k, 3)) for _ in range(3)])
        self.d2, self.d1 = block(4 * k, 2 * k, 3), block(2 * k, k, 3)
        self.out = nn.Sequential(Same(9, 1), nn.Conv2d(k, 3, 9))
    def forward(self, x):
        e1 = self.e1(x); e2 = self.e2(e1); h = self.e3(e2)
        for r in self.res: h = h + r(h)
        h = self.d2(h) + e2; h = self.d1(h) + e1
        return torch.sigmoid(self.out(h))
class D(nn.Module):
    def __init__(self, k=48):
        super().__init__()
        f = [1, 2, 4, 8, 8]; s = [2, 2, 2, 1, 1]; layers = []; ci = 3
        for i in range(5): layers += [block(ci, k * f[i], 4, s[i])]; ci = k * f[i]
        self.body = nn.Sequential(*layers); self.out = nn.Sequential(Same(4, 1), nn.Conv2d(ci, 1, 4))
    def forward(self, x): return torch.sigmoid(self.out(self.body(x)))
g, d = G(), D()
go = torch.optim.Adam(g.parameters(), 1e-3, betas=(0.5, 0.999)); do = torch.optim.Adam(d.parameters(), 1e-3, betas=(0.5, 0.999))
clean = torch.rand(7, 3, 64, 64); noisy = clean + 0.1 * torch.randn(7, 3, 64, 64)
bce = lambda p, t: -(torch.log(p.clamp(1e-7, 1 - 1e-7)) if t else torch.log(1 - p.clamp(1e-7, 1 - 1e-7))).mean()
def step():
    g.train(); d.train()
    with torch.no_grad(): fake = g(noisy)
    do.zero_grad(); ld = bce(d(clean), 1) + bce(d(fake), 0); ld.backward(); do.step()
    d.eval(); go.zero_grad(); y = g(noisy)
    lg = 0.5 * bce(d(y), 1) + 0.5 * ((y - clean) ** 2).sum() + 0.0001 * 0.5 * (((y[..., :-1] - y[..., 1:]) ** 2).sum() + ((y[..., :-1, :] - y[..., 1:, :]) ** 2).sum())
    lg.backward(); go.step()
print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    t = time.perf_counter(); c = time.process_time(); step()
    print(json.dumps({"ms": (time.perf_counter() - t) * 1000, "cpu": (time.process_time() - c) * 1000}), flush=True)
`;

class Torch {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  info: Record<string, unknown> = {};
  constructor(python: string) {
    this.proc = spawn(python, ['-c', TORCH]);
    this.proc.stderr.on('data', (d) => process.stderr.write(d));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async start(): Promise<void> {
    this.info = JSON.parse((await this.lines.next()).value as string);
  }
  async step(): Promise<{ ms: number; cpu: number }> {
    this.proc.stdin.write('{}\n');
    return JSON.parse((await this.lines.next()).value as string) as { ms: number; cpu: number };
  }
  stop(): void {
    this.proc.stdin.end();
  }
}

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const timed = async (f: () => Promise<unknown> | unknown) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
};

const { tf, backend } = await loadTfjs();
const rng = createRng(1);
const shape = [N, S, S, C];
const clean = new Float32Array(N * S * S * C).map(() => rng.next());
const noisy = clean.map((v) => v + 0.1 * (rng.next() - 0.5));
const weights = { ...GAN_PRESETS.readme, feature: 0 };
const torch = new Torch(values.python as string);
await torch.start();
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`machine: ${machine}`);
console.log(`hush: OnnxGanTrainer (onnxruntime-node, 2 intra-op threads) and tfjs ${tf.version.tfjs} (${backend}, one thread); PyTorch ${String(torch.info.torch)}, ${String(torch.info.threads)} threads`);
console.log(`command: node dist/bench/speed/models/gan-step.bench.js ${process.argv.slice(2).join(' ')}`.trim());
console.log(`load average at start: ${load()}`);

const g = await createModel('gan-generator', { channels: 3, seed: 1 });
const d = await createModel('gan-discriminator', { channels: 3, seed: 2 });
const ort = await OnnxGanTrainer.create(g.model, d.model, { weights, threads: 2 });
await ort.step(noisy, clean, shape, 1e-3);
await torch.step();
const h: { ms: number; cpu: number }[] = [];
const p: { ms: number; cpu: number }[] = [];
const loads: string[] = [];
for (let r = 0; r < reps; r++) {
  loads.push(load());
  h.push(await timed(() => ort.step(noisy, clean, shape, 1e-3)));
  p.push(await torch.step());
}
await ort.dispose();
// tfjs: fewer repetitions (tens of seconds each)
const gOpt = tf.train.adam(1e-3, 0.5) as Optimizer;
const dOpt = tf.train.adam(1e-3, 0.5) as Optimizer;
const x = tf.tensor4d(noisy, shape as [number, number, number, number]) as Tensor4D;
const y = tf.tensor4d(clean, shape as [number, number, number, number]) as Tensor4D;
const t: { ms: number; cpu: number }[] = [];
for (let r = 0; r < tfjsReps + 1; r++) {
  const s = await timed(() => tfjsGanStep(tf, g.model, d.model, gOpt, dOpt, x, y, weights));
  if (r > 0) t.push(s); // the first builds the kernels
}
tf.dispose([x, y]);
torch.stop();
const row = {
  batch: `${N}x${S}x${S}x${C}`,
  hushOnnxMsPerStep: median(h.map((s) => s.ms)),
  hushOnnxCpuMsPerStep: median(h.map((s) => s.cpu)),
  torchMsPerStep: median(p.map((s) => s.ms)),
  torchCpuMsPerStep: median(p.map((s) => s.cpu)),
  hushTfjsMsPerStep: t.length ? median(t.map((s) => s.ms)) : NaN,
  samples: { hushOnnx: h, torch: p, hushTfjs: t },
  loadDuring: loads,
};
const ratio = row.hushOnnxMsPerStep / row.torchMsPerStep;
console.log(`\nGAN step, batch ${row.batch}, README weights without the feature loss`);
console.log(`  hush onnx  ${row.hushOnnxMsPerStep.toFixed(0).padStart(6)} ms (CPU ${row.hushOnnxCpuMsPerStep.toFixed(0)} ms)   PyTorch ${row.torchMsPerStep.toFixed(0).padStart(6)} ms (CPU ${row.torchCpuMsPerStep.toFixed(0)} ms)   ratio ${ratio.toFixed(2)}x`);
console.log(`  hush tfjs  ${row.hushTfjsMsPerStep.toFixed(0).padStart(6)} ms (${(row.hushTfjsMsPerStep / row.hushOnnxMsPerStep).toFixed(1)}x the onnx engine's)`);
console.log(`  load averages during: ${loads.join(' | ')}; at end: ${load()}`);
await mkdir('bench/results', { recursive: true });
await writeFile(
  'bench/results/gan-step.json',
  `${JSON.stringify({ bench: 'gan-step', command: `node dist/bench/speed/models/gan-step.bench.js ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(), machine, torch: torch.info, ratio, ...row }, null, 2)}\n`,
);
g.dispose();
d.dispose();
process.exit(0);
