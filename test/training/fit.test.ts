import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../src/models/hush-model.js';
import { loadModel } from '../../src/models/io.js';
import { fit, learningRate, type FitOptions } from '../../src/training/fit.js';
import { TRAINING_METHODS } from '../../src/training/methods/index.js';
import type { TrainImage } from '../../src/training/data.js';
import { makeFixture } from '../models/fixture.js';

function images(count: number, size: number): TrainImage[] {
  const f = makeFixture(count, size, 1, 0, 11);
  return Array.from({ length: count }, (_, i) => ({ data: f.clean.slice(i * size * size, (i + 1) * size * size), width: size, height: size, channels: 1 as const, file: `fixture-${i}` }));
}

const tiny = () => createModel('dncnn', { channels: 1, depth: 3, width: 8, featureNorm: 'none', seed: 3 });

function base(out: string, extra: Partial<FitOptions> = {}): FitOptions {
  const sets = images(6, 24).map((t) => [t]);
  return { method: 'n2true', dataKind: 'clean', sets, noise: { model: 'gaussian', sigma: 0.1 }, sigma: 0.1, steps: 12, batchSize: 4, patchSize: 16, lr: 3e-3, seed: 5, threads: 1, out, checkpointEvery: 4, validateEvery: 1000, ...extra };
}

test('learning-rate schedules', () => {
  assert.equal(learningRate('constant', 1e-3, 50, 100), 1e-3);
  assert.equal(learningRate('cosine', 1e-3, 0, 100), 1e-3);
  assert.ok(Math.abs(learningRate('cosine', 1e-3, 100, 100) - 1e-5) < 1e-12);
  assert.equal(learningRate('step', 1e-3, 49, 100), 1e-3);
  assert.ok(Math.abs(learningRate('step', 1e-3, 60, 100) - 1e-4) < 1e-15);
  assert.ok(Math.abs(learningRate('step', 1e-3, 80, 100) - 1e-5) < 1e-15);
});

test('every method trains a few steps from clean data with a falling loss', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-fit-'));
  try {
    for (const method of TRAINING_METHODS) {
      const model = await tiny();
      const losses: number[] = [];
      // a validation pass per 10 steps checks that runModel-based validation works for every method
      const sets = images(6, 32).map((t) => [t]);
      await fit(model, { ...base(join(dir, method), { method, sets, steps: 40, batchSize: 8, patchSize: 28, lr: 1e-2, validateEvery: 20, reportEvery: 1 }), validation: [{ clean: images(1, 24)[0], noisy: { ...images(1, 24)[0] } }], onProgress: (p) => losses.push(p.loss) });
      const lines = (await readFile(join(dir, method, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
      assert.equal(lines.length, 40, method);
      assert.equal(lines.at(-1)!.step, 40, method);
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      const first = mean(losses.slice(0, 8));
      const last = mean(losses.slice(-8));
      assert.ok(last < first, `${method}: mean loss of the first 8 steps ${first}, of the last 8 ${last}`);
      const best = await loadModel(join(dir, method, 'best'));
      assert.equal(best.metadata.training?.method, method);
      best.dispose();
      model.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

for (const engine of ['onnx', 'tfjs'] as const) {
test(`resume after a stop at step k ends with the same weights as an uninterrupted run (${engine} engine)`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-resume-'));
  try {
    const a = await tiny();
    await fit(a, { ...base(join(dir, 'straight')), engine });
    const b = await tiny();
    const first = await fit(b, { ...base(join(dir, 'resumed')), stopAfter: 5, resume: true, engine });
    assert.equal(first.stopped, 'stopAfter');
    b.dispose();
    // a fresh model object, as after a kill: everything comes from the checkpoint
    const c = await tiny();
    const second = await fit(c, { ...base(join(dir, 'resumed')), resume: true, engine });
    assert.equal(second.steps, 12);
    assert.equal(second.engine, engine);
    const wa = a.model.getWeights().map((t) => Array.from(t.dataSync()));
    const wc = c.model.getWeights().map((t) => Array.from(t.dataSync()));
    assert.deepEqual(wc, wa);
    // a resume with other settings is refused, not silently mixed
    await assert.rejects(fit(await tiny(), { ...base(join(dir, 'resumed')), seed: 6, resume: true }), /was made with other settings \(seed differ\)/);
    await assert.rejects(fit(await tiny(), { ...base(join(dir, 'resumed')), augmentation: { dihedral: false }, resume: true }), /\(augmentation differ\)/);
    const wider = await createModel('dncnn', { channels: 1, depth: 3, width: 12, featureNorm: 'none', seed: 3 });
    await assert.rejects(fit(wider, { ...base(join(dir, 'resumed')), resume: true }), /\(model differ\)/);
    wider.dispose();
    a.dispose();
    c.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
}

test('n2same-pro started from an n2same checkpoint before its pro phase ends with the weights of a whole n2same-pro run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-branch-'));
  try {
    // 12 steps, the last quarter (3) pro: the two methods share steps 0-8
    const pro = (out: string, extra: Partial<FitOptions> = {}) => base(out, { method: 'n2same-pro', methodOptions: { last: 0.25 }, reportEvery: 1, ...extra });
    const a = await tiny();
    await fit(a, pro(join(dir, 'straight')));
    const same = await tiny();
    assert.equal((await fit(same, base(join(dir, 'same'), { method: 'n2same', steps: 12, stopAfter: 8, reportEvery: 1 }))).stopped, 'stopAfter');
    same.dispose();
    const b = await tiny();
    const r = await fit(b, pro(join(dir, 'branched'), { resumeFrom: join(dir, 'same'), resume: true }));
    assert.equal(r.steps, 12);
    assert.deepEqual(b.model.getWeights().map((t) => Array.from(t.dataSync())), a.model.getWeights().map((t) => Array.from(t.dataSync())));
    const rows = (await readFile(join(dir, 'branched', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    assert.deepEqual(rows, Array.from({ length: 12 }, (_, i) => i + 1), 'the n2same rows were carried over, then the run went on');
    // the source run is left as it was
    const state = JSON.parse(await readFile(join(dir, 'same', 'checkpoint', 'state.json'), 'utf8')) as { step: number; signature: { method: string } };
    assert.equal(state.step, 8);
    assert.equal(state.signature.method, 'n2same');
    // at the exact step where they part (9): the copy alone (stopAfter 9 trains nothing), then a plain resume
    const same9 = await tiny();
    await fit(same9, base(join(dir, 'same9'), { method: 'n2same', steps: 12, stopAfter: 9 }));
    same9.dispose();
    const sourceBytes = await readFile(join(dir, 'same9', 'checkpoint', 'model', 'weights.bin'));
    const c = await tiny();
    const copied = await fit(c, pro(join(dir, 'at9'), { resumeFrom: join(dir, 'same9'), stopAfter: 9 }));
    assert.deepEqual([copied.stopped, copied.steps], ['stopAfter', 9]);
    c.dispose();
    // as after a kill right after the copy: the copy carries n2same-pro's settings, so --resume alone continues it
    const d = await tiny();
    await fit(d, pro(join(dir, 'at9'), { resume: true }));
    assert.deepEqual(d.model.getWeights().map((t) => Array.from(t.dataSync())), a.model.getWeights().map((t) => Array.from(t.dataSync())));
    d.dispose();
    assert.deepEqual(await readFile(join(dir, 'same9', 'checkpoint', 'model', 'weights.bin')), sourceBytes, 'the source checkpoint is untouched');
    // method options compare with defaults filled in: an explicit default box is the same run
    await fit(await tiny(), pro(join(dir, 'boxed'), { resumeFrom: join(dir, 'same'), methodOptions: { last: 0.25, box: 14 }, stopAfter: 8 }));
    // past the shared steps, another method, or other settings: refused
    const past = await tiny();
    await fit(past, base(join(dir, 'past'), { method: 'n2same', steps: 12, stopAfter: 10 }));
    await assert.rejects(fit(await tiny(), pro(join(dir, 'x1'), { resumeFrom: join(dir, 'past') })), /at step 10, past step 9 where n2same-pro stops training as n2same/);
    await assert.rejects(fit(await tiny(), pro(join(dir, 'x2'), { resumeFrom: join(dir, 'same'), seed: 6 })), /other settings \(.*seed.*differ\)/);
    await assert.rejects(fit(await tiny(), base(join(dir, 'x3'), { method: 'n2v', resumeFrom: join(dir, 'same') })), /other settings \(method, methodOptions differ\)|other settings \(method differ\)/);
    await assert.rejects(fit(await tiny(), pro(join(dir, 'x4'), { resumeFrom: join(dir, 'nothing-here') })), /holds no checkpoint/);
    // an out folder with its own checkpoint is not overwritten without resume
    await assert.rejects(fit(await tiny(), pro(join(dir, 'branched'), { resumeFrom: join(dir, 'same') })), /already holds a checkpoint/);
    a.dispose();
    b.dispose();
    past.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('engines: auto trains DnCNN and U-nets on onnxruntime (Noise2Same too) and RIDNet on tfjs; both engines reach similar losses', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-engine-'));
  try {
    const losses: Record<string, number> = {};
    for (const engine of ['auto', 'tfjs'] as const) {
      const m = await tiny();
      const r = await fit(m, { ...base(join(dir, engine)), steps: 30, engine });
      assert.equal(r.engine, engine === 'auto' ? 'onnx' : 'tfjs');
      losses[engine] = r.finalLoss;
      m.dispose();
    }
    // the same steps on the same batches: the engines differ only by float rounding
    assert.ok(Math.abs(losses.auto - losses.tfjs) < 0.05 * losses.tfjs, JSON.stringify(losses));
    const m = await tiny();
    const r = await fit(m, { ...base(join(dir, 'n2same')), method: 'n2same', dataKind: 'noisy', noise: undefined, steps: 2 });
    assert.equal(r.engine, 'onnx');
    m.dispose();
    const unet = await createModel('unet', { preset: 'baby', channels: 1, width: 4, maxWidth: 8, seed: 1 });
    const u = await fit(unet, { ...base(join(dir, 'unet')), steps: 2 });
    assert.equal(u.engine, 'onnx');
    unet.dispose();
    // RIDNet's channel attention is outside the onnx op set
    const ridnet = await createModel('ridnet', { channels: 1, modules: 1, width: 8, reduction: 4, seed: 1 });
    const rr = await fit(ridnet, { ...base(join(dir, 'ridnet')), steps: 2 });
    assert.equal(rr.engine, 'tfjs');
    await assert.rejects(fit(ridnet, { ...base(join(dir, 'ridnet-onnx')), steps: 2, engine: 'onnx' }), /the onnx engine cannot train this \(.*\); use engine 'tfjs' or 'auto'/);
    ridnet.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad settings: clear messages', async () => {
  const m = await tiny();
  await assert.rejects(fit(m, { ...base('/tmp/unused'), method: 'n2true', dataKind: 'noisy' }), /n2true cannot train from noisy data; it takes clean, noisy-clean/);
  await assert.rejects(fit(m, { ...base('/tmp/unused'), noise: undefined }), /options\.noise/);
  await assert.rejects(fit(m, { ...base('/tmp/unused'), patchSize: 64 }), /smaller than the 64x64 patches/);
  m.dispose();
  const scaled = await createModel('dncnn', { channels: 1, depth: 3, width: 8, normalization: { kind: 'standardize' } });
  await assert.rejects(fit(scaled, base('/tmp/unused')), /normalization 'standardize', but fit trains on the data's own scale; give a model with normalization 'none'/);
  scaled.dispose();
});

test("checkpoints of both engines store Adam's state in tfjs's convention (accBeta = beta^(t+1)), so either engine resumes either", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-adam-'));
  try {
    const states: { iterations: number; accBeta1: number; accBeta2: number }[] = [];
    for (const engine of ['onnx', 'tfjs'] as const) {
      const m = await tiny();
      await fit(m, { ...base(join(dir, engine)), stopAfter: 4, engine });
      states.push((JSON.parse(await readFile(join(dir, engine, 'checkpoint', 'state.json'), 'utf8')) as { adam: (typeof states)[number] }).adam);
      m.dispose();
    }
    assert.equal(states[0].iterations, 4);
    assert.equal(states[1].iterations, 4);
    assert.ok(Math.abs(states[0].accBeta1 - 0.9 ** 5) < 1e-6 && Math.abs(states[1].accBeta1 - 0.9 ** 5) < 1e-6, JSON.stringify(states));
    assert.ok(Math.abs(states[0].accBeta2 - states[1].accBeta2) < 1e-6);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
