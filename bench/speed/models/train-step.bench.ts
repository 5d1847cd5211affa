/**
 * Training-step speed of hush's neural engine against PyTorch on the CPU, in the
 * same run: DnCNN (depth 17 width 64, and depth 8 width 32) on a 16x64x64 grey batch
 * (NHWC in tfjs, NCHW in PyTorch), Adam + MSE, residual output, batch norm; plus
 * forward-only throughput. PyTorch runs in a persistent python3 process with
 * torch.set_num_threads(2), and the two sides alternate block by block so that load
 * from other jobs falls on both alike. Prints ms/step, GFLOPS (3x the forward FLOPs
 * per step: forward, input gradient, filter gradient) and the ratio, and each
 * side's CPU time per step (all threads), which load from other jobs disturbs less
 * than wall time; writes JSON to bench/results/train-step.json.
 *
 *   npm run build && node dist/bench/speed/models/train-step.bench.js [--engine onnx|tfjs] [--reps 5] [--python /usr/bin/python3] [--threads N] [--quick]
 *
 * --engine onnx (default): hush's OnnxTrainer (onnxruntime-node, --threads default 2,
 * as PyTorch), forward through the exported ONNX model; --engine tfjs: the wasm
 * backend, data-parallel on --threads (default 1), forward through tfjs.
 * --quick: depth 8 only.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import type { Tensor } from '@tensorflow/tfjs';
import { loadTfjs } from '../../../src/runtime/tfjs.js';
import { countFlops, createModel } from '../../../src/models/index.js';
import { DataParallelTrainer } from '../../../src/models/data-parallel.js';
import { OnnxTrainer } from '../../../src/training/onnx-trainer.js';
import { exportOnnx } from '../../../src/onnx/export.js';
import { loadOnnxModel } from '../../../src/runtime/onnx.js';
import { createRng } from '../../../src/core/rng.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    python: { type: 'string', default: '/usr/bin/python3' },
    threads: { type: 'string' },
    engine: { type: 'string', default: 'onnx' },
    quick: { type: 'boolean', default: false },
    'torch-threads': { type: 'string', default: '2' },
  },
});
const reps = Number(values.reps);
const engine = values.engine === 'tfjs' ? 'tfjs' : 'onnx';
const threads = Number(values.threads ?? (engine === 'onnx' ? 2 : 1));
const torchThreads = Number(values['torch-threads']);
const BATCH = 16;
const SIZE = 64;

const TORCH = String.raw`
import json, sys, time
import torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)
nets = {}
def build(depth, width):
    layers = [nn.Conv2d(1, width, 3, padding=1), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width, momentum=0.1, eps=1e-5), nn.ReLU()]
    layers += [nn.Conv2d(width, 1, 3, padding=1)]
    return nn.Sequential(*layers)
x = torch.rand(16, 1, 64, 64); y = torch.rand(16, 1, 64, 64)
print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    key = (cmd["depth"], cmd["width"])
    if key not in nets:
        net = build(*key); nets[key] = (net, torch.optim.Adam(net.parameters(), 1e-3))
    net, opt = nets[key]
    times = []; cpu = []
    for _ in range(cmd["steps"]):
        t = time.perf_counter(); c = time.process_time()
        if cmd["kind"] == "train":
            net.train(); opt.zero_grad(); loss = ((x - net(x) - y) ** 2).mean(); loss.backward(); opt.step()
        else:
            net.eval()
            with torch.no_grad(): out = x - net(x)
        times.append((time.perf_counter() - t) * 1000); cpu.append((time.process_time() - c) * 1000)
    print(json.dumps({"times": times, "cpu": cpu}), flush=True)
`;

class Torch {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  info: Record<string, unknown> = {};
  constructor(python: string) {
    this.proc = spawn(python, ['-c', TORCH, String(torchThreads)]);
    this.proc.stderr.on('data', (d) => process.stderr.write(d));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  async start(): Promise<void> {
    this.info = JSON.parse((await this.lines.next()).value as string);
  }
  async run(kind: 'train' | 'forward', depth: number, width: number, steps: number): Promise<{ times: number[]; cpu: number[] }> {
    this.proc.stdin.write(`${JSON.stringify({ kind, depth, width, steps })}\n`);
    return JSON.parse((await this.lines.next()).value as string) as { times: number[]; cpu: number[] };
  }
  stop(): void {
    this.proc.stdin.end();
  }
}

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

const { tf, backend } = await loadTfjs();
const rng = createRng(1);
const n = BATCH * SIZE * SIZE;
const target = new Float32Array(n).map(() => rng.next());
const input = new Float32Array(n).map(() => rng.next());
const shape = [BATCH, SIZE, SIZE, 1];

const torch = new Torch(values.python as string);
await torch.start();
const machine = `${cpus().length} x ${cpus()[0].model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`machine: ${machine}`);
console.log(`hush: ${engine === 'onnx' ? `onnxruntime-node (OnnxTrainer), ${threads} intra-op thread(s)` : `tfjs ${tf.version.tfjs}, backend ${backend}, ${threads} thread(s)`}; PyTorch ${String(torch.info.torch)}, ${String(torch.info.threads)} threads`);
console.log(`load average at start: ${load()}`);
console.log(`command: node dist/bench/speed/models/train-step.bench.js ${process.argv.slice(2).join(' ')}`.trim());

const configs = values.quick ? [{ depth: 8, width: 32 }] : [{ depth: 8, width: 32 }, { depth: 17, width: 64 }];
const results: Record<string, unknown>[] = [];
for (const { depth, width } of configs) {
  const model = await createModel('dncnn', { depth, width, seed: 1 });
  const flopsForward = countFlops(model.model, SIZE, SIZE) * BATCH;
  const flopsStep = 3 * flopsForward;
  const trainer = engine === 'tfjs' ? await DataParallelTrainer.create(model.model, tf.train.adam(1e-3), { threads }) : undefined;
  const ortTrainer = engine === 'onnx' ? await OnnxTrainer.create(model.model, { threads, loss: 'l2' }) : undefined;
  const onnxForward = engine === 'onnx' ? await loadOnnxModel(exportOnnx(model), { threads }) : undefined;
  const batch = () => ({ inputs: [input.slice()], inputShapes: [shape], target: target.slice(), targetShape: shape });
  const hushStep = async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    if (ortTrainer) await ortTrainer.step({ input: input.slice(), target: target.slice(), shape }, 1e-3);
    else await trainer!.step(batch(), { kind: 'l2' });
    const c = process.cpuUsage(c0);
    return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
  };
  const x = tf.tensor4d(input, shape as [number, number, number, number]);
  const hushForward = async () => {
    const t0 = performance.now();
    if (onnxForward) {
      await onnxForward.run(input.slice(), BATCH, 1, SIZE, SIZE);
      return performance.now() - t0;
    }
    const y = model.model.predict(x) as Tensor;
    y.dataSync();
    y.dispose();
    return performance.now() - t0;
  };
  // warm-up: XNNPACK operators, optimizer slots, PyTorch's allocator
  await hushStep();
  await hushForward();
  await torch.run('train', depth, width, 2);
  await torch.run('forward', depth, width, 1);
  const h: number[] = [];
  const hc: number[] = [];
  const p: number[] = [];
  const pc: number[] = [];
  const hf: number[] = [];
  const pf: number[] = [];
  const loads: string[] = [];
  for (let r = 0; r < reps; r++) {
    loads.push(load());
    const s = await hushStep();
    h.push(s.wall);
    hc.push(s.cpu);
    const t = await torch.run('train', depth, width, 1);
    p.push(...t.times);
    pc.push(...t.cpu);
    hf.push(await hushForward());
    pf.push(...(await torch.run('forward', depth, width, 1)).times);
  }
  const row = {
    model: `dncnn depth ${depth} width ${width}`,
    batch: `${BATCH}x1x${SIZE}x${SIZE}`,
    flopsPerStep: flopsStep,
    hushMsPerStep: median(h),
    torchMsPerStep: median(p),
    ratio: median(h) / median(p),
    hushCpuMsPerStep: median(hc),
    torchCpuMsPerStep: median(pc),
    cpuRatio: median(hc) / median(pc),
    hushGflops: flopsStep / median(h) / 1e6,
    torchGflops: flopsStep / median(p) / 1e6,
    hushForwardMs: median(hf),
    torchForwardMs: median(pf),
    hushForwardMpixPerS: (BATCH * SIZE * SIZE) / median(hf) / 1e3,
    torchForwardMpixPerS: (BATCH * SIZE * SIZE) / median(pf) / 1e3,
    forwardRatio: median(hf) / median(pf),
    samples: { hush: h, torch: p, hushCpu: hc, torchCpu: pc, hushForward: hf, torchForward: pf },
    loadDuring: loads,
  };
  results.push(row);
  console.log(`\n${row.model}, batch ${row.batch}, Adam + MSE (${(flopsStep / 1e9).toFixed(1)} GFLOP per step)`);
  console.log(`  train step   hush ${row.hushMsPerStep.toFixed(0).padStart(6)} ms (${row.hushGflops.toFixed(1)} GFLOPS)   PyTorch ${row.torchMsPerStep.toFixed(0).padStart(6)} ms (${row.torchGflops.toFixed(1)} GFLOPS)   ratio ${row.ratio.toFixed(2)}x`);
  console.log(`  CPU time     hush ${row.hushCpuMsPerStep.toFixed(0).padStart(6)} ms per step                PyTorch ${row.torchCpuMsPerStep.toFixed(0).padStart(6)} ms per step                ratio ${row.cpuRatio.toFixed(2)}x`);
  console.log(`  forward      hush ${row.hushForwardMs.toFixed(0).padStart(6)} ms (${row.hushForwardMpixPerS.toFixed(2)} MP/s)   PyTorch ${row.torchForwardMs.toFixed(0).padStart(6)} ms (${row.torchForwardMpixPerS.toFixed(2)} MP/s)   ratio ${row.forwardRatio.toFixed(2)}x`);
  console.log(`  load averages during: ${loads.join(' | ')}`);
  x.dispose();
  await trainer?.dispose();
  await ortTrainer?.dispose();
  await onnxForward?.dispose();
  model.dispose();
}
torch.stop();
console.log(`\nload average at end: ${load()}`);
await mkdir('bench/results', { recursive: true });
const out = {
  bench: 'train-step',
  command: `node dist/bench/speed/models/train-step.bench.js ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine,
  hush: { engine, tfjs: tf.version.tfjs, backend, threads },
  torch: torch.info,
  results,
};
await writeFile(`bench/results/train-step${engine === 'onnx' ? '-onnx' : threads > 1 ? `-${threads}threads` : ''}.json`, `${JSON.stringify(out, null, 2)}\n`);
