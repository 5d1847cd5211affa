/**
 * Where a training step's time goes, kernel by kernel (tf.profile), for one DnCNN
 * step on a 16x64x64x1 batch.
 *
 *   npm run build && node dist/bench/speed/models/profile-step.bench.js [--depth 8] [--width 32]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Tensor } from '@tensorflow/tfjs';
import { loadTfjs } from '../../../src/runtime/tfjs.js';
import { createModel } from '../../../src/models/index.js';

const { values } = parseArgs({ options: { depth: { type: 'string', default: '8' }, width: { type: 'string', default: '32' }, batch: { type: 'string', default: '16' } } });
const { tf, backend } = await loadTfjs();
const m = await createModel('dncnn', { depth: Number(values.depth), width: Number(values.width), seed: 1 });
const b = Number(values.batch);
const x = tf.randomUniform([b, 64, 64, 1]);
const y = tf.randomUniform([b, 64, 64, 1]);
const opt = tf.train.adam(1e-3);
const step = () => {
  const l = opt.minimize(() => tf.mean(tf.square(tf.sub(m.model.apply(x, { training: true }) as Tensor, y))) as ReturnType<typeof tf.scalar>, true);
  l!.dataSync();
  l!.dispose();
};
step();
const t0 = performance.now();
const info = await tf.profile(step);
const wall = performance.now() - t0;
const by = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs);
  e.n++;
  by.set(k.name, e);
}
console.log(`backend ${backend}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}, step wall ${wall.toFixed(0)} ms`);
for (const [name, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) console.log(name.padEnd(24), e.ms.toFixed(1).padStart(8), 'ms', String(e.n).padStart(4), 'calls');
