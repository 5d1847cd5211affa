/**
 * Where an onnxruntime training step's time goes (OnnxTrainer, the engine of hush
 * train): the DnCNN of docs/results.md (depth 12, width 48) on a 16x48x48x1 batch,
 * with onnxruntime's own profiler, kernel time summed by op type and by output size
 * (full-size maps against per-channel or per-weight tensors), and the step's wall time
 * without the profiler (median).
 *
 *   npm run build && node dist/bench/speed/models/onnx-profile-step.bench.js [--loss l2|noise2same] [--steps 20] [--threads 2]
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createModel } from '../../../src/models/index.js';
import { OnnxTrainer, type OnnxTrainingLoss } from '../../../src/training/onnx-trainer.js';
import { loadOrt } from '../../../src/runtime/onnx.js';
import { createRng } from '../../../src/core/rng.js';

const { values } = parseArgs({ options: { loss: { type: 'string', default: 'l2' }, steps: { type: 'string', default: '20' }, threads: { type: 'string', default: '2' } } });
const loss = values.loss as OnnxTrainingLoss;
const steps = Number(values.steps);
const threads = Number(values.threads);
const [N, S] = [16, 48];
const shape = [N, S, S, 1];
const rng = createRng(1);
const noise = () => Float32Array.from({ length: N * S * S }, () => rng.next());
const mask = Float32Array.from({ length: N * S * S }, (_, i) => (i % 40 === 0 ? 1 : 0));
const batch = () => ({ input: noise(), target: noise(), shape, mask, ...(loss.startsWith('noise2same') ? { input2: noise(), lambda: 0.1 } : {}) });

async function run(profileDir?: string): Promise<number[]> {
  const ort = await loadOrt();
  const create = ort.InferenceSession.create.bind(ort.InferenceSession);
  // the trainer's session, with the profiler on
  if (profileDir) (ort.InferenceSession as { create: unknown }).create = (bytes: Uint8Array, o: object) => create(bytes, { ...o, enableProfiling: true, profileFilePrefix: join(profileDir, 'ort') });
  try {
    const model = await createModel('dncnn', { depth: 12, width: 48, seed: 1 });
    const trainer = await OnnxTrainer.create(model.model, { threads, loss });
    await trainer.step(batch(), 1e-3);
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const b = batch();
      const t0 = performance.now();
      await trainer.step(b, 1e-3);
      times.push(performance.now() - t0);
    }
    if (profileDir) await (trainer as unknown as { session: { session: { endProfiling(): Promise<void> } } }).session.session.endProfiling();
    return times.sort((a, b) => a - b);
  } finally {
    (ort.InferenceSession as { create: unknown }).create = create;
  }
}

const wall = await run();
const dir = await mkdtemp(join(tmpdir(), 'hush-ort-profile-'));
await run(dir);
interface Event {
  cat?: string;
  name: string;
  dur: number;
  args?: { op_name?: string; output_type_shape?: Record<string, number[]>[] };
}
const file = (await readdir(dir)).find((f) => f.endsWith('.json'))!;
const events = JSON.parse(await readFile(join(dir, file), 'utf8')) as Event[];
await rm(dir, { recursive: true, force: true });
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').length;
const by = new Map<string, { us: number; n: number }>();
let total = 0;
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const size = Object.values(e.args?.output_type_shape?.[0] ?? {})[0]?.reduce((a, b) => a * b, 1) ?? 0;
  const key = `${e.args?.op_name ?? '?'}${size > 1e6 ? ' (full-size)' : ''}`;
  const s = by.get(key) ?? { us: 0, n: 0 };
  s.us += e.dur;
  s.n++;
  by.set(key, s);
  total += e.dur;
}
console.log(`command: node dist/bench/speed/models/onnx-profile-step.bench.js --loss ${loss} --steps ${steps} --threads ${threads}`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, Node ${process.version}`);
console.log(`DnCNN depth 12 width 48, batch ${shape.join('x')}, loss ${loss}: ${wall[wall.length >> 1].toFixed(1)} ms/step median (min ${wall[0].toFixed(1)}) without the profiler`);
console.log(`profiled: ${(total / runs / 1000).toFixed(1)} ms of kernel time per step over ${runs} steps`);
for (const [name, s] of [...by.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, 18)) {
  console.log(`${name.padEnd(28)} ${(s.us / runs / 1000).toFixed(1).padStart(7)} ms ${((100 * s.us) / total).toFixed(1).padStart(5)} %  ${(s.n / runs).toFixed(0).padStart(4)} calls/step`);
}
