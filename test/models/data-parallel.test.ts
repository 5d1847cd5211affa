/**
 * Data-parallel training: a step on two threads (the calling one and a worker with
 * its own wasm backend) must equal a step on one, since the shard gradients of a
 * mean loss, weighted by shard size, average to the full-batch gradient.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel } from '../../src/models/index.js';
import { DataParallelTrainer } from '../../src/models/data-parallel.js';
import { makeFixture } from './fixture.js';

const { tf } = await loadTfjs({ backend: 'wasm' });

for (const loss of [{ kind: 'l2' }, { kind: 'l1' }] as const) {
  test(`a ${loss.kind} step on 2 threads equals the step on 1 (SGD, no batch norm, uneven shards 3+2)`, async () => {
    const f = makeFixture(5, 12, 1, 0.1, 9);
    const batch = { inputs: [f.noisy], inputShapes: [f.shape], target: f.clean, targetShape: f.shape };
    const results: { loss: number; weights: Float32Array[] }[] = [];
    for (const threads of [1, 2]) {
      const m = await createModel('dncnn', { depth: 3, width: 4, featureNorm: 'none', seed: 3 });
      const trainer = await DataParallelTrainer.create(m.model, tf.train.sgd(0.1), { threads });
      const l = await trainer.step({ ...batch, inputs: [batch.inputs[0].slice()], target: batch.target.slice() }, loss);
      results.push({ loss: l, weights: m.model.getWeights().map((w) => w.dataSync() as Float32Array) });
      await trainer.dispose();
      m.dispose();
    }
    assert.ok(Math.abs(results[0].loss - results[1].loss) <= 1e-6 * results[0].loss, `${results[0].loss} vs ${results[1].loss}`);
    results[0].weights.forEach((w, i) => {
      const d = w.reduce((m, v, j) => Math.max(m, Math.abs(v - results[1].weights[i][j])), 0);
      assert.ok(d <= 1e-6, `weight ${i} differs by ${d}`);
    });
  });
}

test('data-parallel training with batch norm (moving statistics averaged over replicas) runs and lowers the loss', async () => {
  const f = makeFixture(4, 16, 1, 0.1, 10);
  const m = await createModel('dncnn', { depth: 4, width: 8, seed: 4 });
  const trainer = await DataParallelTrainer.create(m.model, tf.train.adam(0.01), { threads: 2 });
  const losses: number[] = [];
  for (let i = 0; i < 8; i++) losses.push(await trainer.step({ inputs: [f.noisy.slice()], inputShapes: [f.shape], target: f.clean.slice(), targetShape: f.shape }, { kind: 'l2' }));
  await trainer.dispose();
  m.dispose();
  assert.ok(losses[7] < losses[0] * 0.9, losses.join(', '));
});
