/**
 * Two cores for training: one thread vs data-parallel worker threads (the batch
 * split between the calling thread and a worker, gradients averaged), on the same
 * model, batch and optimizer, timed alternately so that load from other jobs falls
 * on both alike. Besides wall time it records the process's CPU time per step (all
 * threads): on a busy machine whose scheduler gives each session a fixed share
 * (Linux autogroup), wall time cannot show a second thread's gain, but CPU time shows
 * what the split costs: if two threads spend about the CPU time of one, an idle
 * machine runs the step in about half the wall time.
 *
 *   npm run build && node dist/bench/speed/models/two-cores.bench.js [--depth 8] [--width 32] [--reps 4]
 */
import { loadavg, cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadTfjs } from '../../../src/runtime/tfjs.js';
import { createModel } from '../../../src/models/index.js';
import { DataParallelTrainer } from '../../../src/models/data-parallel.js';
import { createRng } from '../../../src/core/rng.js';

const { values } = parseArgs({ options: { depth: { type: 'string', default: '8' }, width: { type: 'string', default: '32' }, reps: { type: 'string', default: '4' }, batch: { type: 'string', default: '16' }, size: { type: 'string', default: '64' } } });
const depth = Number(values.depth);
const width = Number(values.width);
const reps = Number(values.reps);
const batch = Number(values.batch);
const size = Number(values.size);
const { tf, backend } = await loadTfjs();
const rng = createRng(1);
const n = batch * size * size;
const target = new Float32Array(n).map(() => rng.next());
const input = new Float32Array(n);
rng.addNormal(input, target, 0.1);
const shape = [batch, size, size, 1];

async function trainer(threads: number) {
  const m = await createModel('dncnn', { depth, width, seed: 1 });
  return DataParallelTrainer.create(m.model, tf.train.adam(1e-3), { threads });
}
const one = await trainer(1);
const two = await trainer(2);
const step = (t: DataParallelTrainer) => t.step({ inputs: [input], inputShapes: [shape], target, targetShape: shape }, { kind: 'l2' });
for (const t of [one, two]) for (let i = 0; i < 2; i++) await step(t);
const times: Record<string, number[]> = { one: [], two: [] };
const cpu: Record<string, number[]> = { one: [], two: [] };
for (let r = 0; r < reps; r++) {
  for (const [name, t] of [['one', one], ['two', two]] as const) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await step(t);
    times[name].push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu[name].push((c.user + c.system) / 1000);
  }
}
const med = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`backend ${backend}, ${cpus().length} cores (${cpus()[0].model}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`dncnn depth ${depth} width ${width}, batch ${batch}x${size}x${size}x1, Adam + MSE`);
console.log(`1 thread : median ${med(times.one).toFixed(0)} ms/step (${times.one.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`2 threads: median ${med(times.two).toFixed(0)} ms/step (${times.two.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`speed-up ${(med(times.one) / med(times.two)).toFixed(2)}x (wall)`);
console.log(`CPU time per step: 1 thread ${med(cpu.one).toFixed(0)} ms, 2 threads ${med(cpu.two).toFixed(0)} ms: parallel efficiency ${(med(cpu.one) / med(cpu.two)).toFixed(2)}, idle-machine speed-up bound ${((2 * med(cpu.one)) / med(cpu.two)).toFixed(2)}x`);
console.log(`command: node dist/bench/speed/models/two-cores.bench.js ${process.argv.slice(2).join(' ')}`.trim());
await one.dispose();
await two.dispose();
await mkdir('bench/results', { recursive: true });
await writeFile(
  'bench/results/two-cores.json',
  `${JSON.stringify({ bench: 'two-cores', command: `node dist/bench/speed/models/two-cores.bench.js ${process.argv.slice(2).join(' ')}`.trim(), date: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0].model}`, load: loadavg(), model: { depth, width, batch, size }, wallMs: times, cpuMs: cpu, speedup: med(times.one) / med(times.two), parallelEfficiency: med(cpu.one) / med(cpu.two) }, null, 2)}\n`,
);
