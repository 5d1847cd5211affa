/**
 * The convolution kernels one by one, in CPU time (process.cpuUsage, so that load
 * from other jobs matters less than for wall time): forward conv, the input gradient
 * and the filter gradient (both as XNNPACK forward convolutions), and tfjs's built-in
 * input gradient, on 16x64x64xC -> C, 3x3.
 *
 *   npm run build && node dist/bench/speed/models/conv-kernels.bench.js [--channels 32] [--reps 5]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { NamedAttrMap, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { loadTfjs } from '../../../src/runtime/tfjs.js';
import { BUILTIN_KERNELS } from '../../../src/runtime/kernels/index.js';

const { values } = parseArgs({ options: { channels: { type: 'string', default: '32' }, reps: { type: 'string', default: '5' } } });
const C = Number(values.channels);
const reps = Number(values.reps);
const [N, H] = [16, 64];
const { tf } = await loadTfjs();
const x = tf.randomNormal([N, H, H, C]) as Tensor4D;
const w = tf.randomNormal([3, 3, C, C]) as Tensor4D;
const dy = tf.randomNormal([N, H, H, C]) as Tensor4D;
const gflop = (2 * N * H * H * C * C * 9) / 1e9;
console.log(`16x64x64x${C} -> ${C}, 3x3 'same': ${gflop.toFixed(2)} GFLOP per call; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
function time(name: string, f: () => Tensor): void {
  f().dispose();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const y = f();
    y.dataSync();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    y.dispose();
  }
  const med = (a: number[]) => a.sort((p, q) => p - q)[Math.floor(a.length / 2)];
  console.log(`${name.padEnd(34)} cpu ${med(cpu).toFixed(1).padStart(7)} ms (${(gflop / (med(cpu) / 1000)).toFixed(1).padStart(5)} GFLOPS per CPU-second)  wall ${med(wall).toFixed(1).padStart(7)} ms`);
}
const attrs = (extra: Record<string, unknown>) => ({ strides: 1, pad: 'same', dataFormat: 'NHWC', ...extra }) as unknown as NamedAttrMap;
time('forward conv', () => tf.conv2d(x, w, 1, 'same'));
time('input gradient (hush)', () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs({ inputShape: [N, H, H, C] })) as Tensor);
time('filter gradient (hush)', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs({ filterShape: [3, 3, C, C] })) as Tensor);
const builtin = BUILTIN_KERNELS.get('Conv2DBackpropInput');
if (builtin) {
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel(builtin);
  time('input gradient (tfjs built-in)', () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs({ inputShape: [N, H, H, C] })) as Tensor);
  void ours;
}
