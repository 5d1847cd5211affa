import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { parseDuration, parseKeyValues, spec } from '../../src/cli/commands/train.js';
import { writeImage } from '../../src/io/index.js';
import { loadModel } from '../../src/models/io.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { testPattern, tempDir } from '../helpers/images.js';

async function folders(dir: string): Promise<{ clean: string; noisy: string }> {
  const clean = join(dir, 'clean');
  const noisy = join(dir, 'noisy');
  mkdirSync(clean);
  mkdirSync(noisy);
  for (let i = 0; i < 3; i++) {
    const img = testPattern(40 + 4 * i, 36, 1);
    await writeImage(join(clean, `${i}.png`), img);
    await writeImage(join(noisy, `${i}.npy`), addGaussianNoise(img, { sigma: 0.1, seed: i }));
  }
  return { clean, noisy };
}

const small = ['--model', 'dncnn', '--model-options', 'depth=3,width=8,feature-norm=none', '--batch', '4', '--patch', '32', '--threads', '1'];

test('hush train: n2true from clean folders with noise on the fly, then --resume continues to the new end', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { clean } = await folders(dir);
    const out = join(dir, 'run');
    const r = await cli(['train', '--method', 'n2true', ...small, '--data', clean, '--noise', 'gaussian', '--sigma255', '25', '--steps', '6', '--val-split', '0.34', '--validate-every', '3', '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(r.out) as { steps: number; bestPsnr: number; stopped: string };
    assert.equal(summary.steps, 6);
    assert.equal(summary.stopped, 'done');
    assert.ok(Number.isFinite(summary.bestPsnr));
    assert.match(r.err, /n2true on 2 clean item\(s\)/);
    const best = await loadModel(join(out, 'best'));
    assert.equal(best.metadata.training?.method, 'n2true');
    assert.equal(best.metadata.noise?.model, 'gaussian');
    assert.ok(existsSync(join(out, 'best', 'model.onnx')), 'the best model is also exported to ONNX');
    assert.ok(readFileSync(join(out, 'curves.png')).subarray(1, 4).toString() === 'PNG', 'loss and PSNR curves drawn');
    best.dispose();
    assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!.includes('"step":6'), true);
    // same settings: nothing left to do, the checkpoint is at the end
    const again = await cli(['train', '--method', 'n2true', ...small, '--data', clean, '--noise', 'gaussian', '--sigma255', '25', '--steps', '6', '--val-split', '0.34', '--validate-every', '3', '--out', out, '--resume', '--json']);
    assert.equal(again.code, 0, again.err);
    // other settings: refused
    const other = await cli(['train', '--method', 'n2true', ...small, '--data', clean, '--noise', 'gaussian', '--sigma255', '25', '--steps', '8', '--out', out, '--resume']);
    assert.equal(other.code, 2);
    assert.match(other.err, /made with other settings/);
  } finally {
    cleanup();
  }
});

test('hush train: self-supervised from noisy images alone, and pairs', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { clean, noisy } = await folders(dir);
    const r = await cli(['train', '--method', 'n2v', ...small, '--noisy', noisy, '--steps', '3', '--out', join(dir, 'n2v')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /trained dncnn with n2v \(onnx engine\): 3\/3 steps/);
    assert.ok(existsSync(join(dir, 'n2v', 'best', 'model.json')));
    const p = await cli(['train', '--method', 'n2true', ...small, '--noisy', noisy, '--clean', clean, '--steps', '2', '--out', join(dir, 'pairs')]);
    assert.equal(p.code, 0, p.err);
    // Recorrupted-to-Recorrupted records its sigma, and its model denoises over recorruptions
    const q = await cli(['train', '--method', 'r2r', ...small, '--noisy', noisy, '--sigma255', '25', '--steps', '3', '--out', join(dir, 'r2r')]);
    assert.equal(q.code, 0, q.err);
    const m = await loadModel(join(dir, 'r2r', 'best'));
    assert.equal(m.metadata.training?.sigma, 25 / 255);
    m.dispose();
    const d = await cli(['denoise', join(noisy, '0.npy'), '-o', join(dir, 'r2r.npy'), '--model', join(dir, 'r2r', 'best')]);
    assert.equal(d.code, 0, d.err);
    assert.ok(existsSync(join(dir, 'r2r.npy')));
  } finally {
    cleanup();
  }
});

test('hush train: --stop-after, then n2same-pro --resume-from the n2same run', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { noisy } = await folders(dir);
    const same = join(dir, 'same');
    const args = [...small, '--noisy', noisy, '--sigma255', '25', '--steps', '8'];
    const s = await cli(['train', '--method', 'n2same', ...args, '--stop-after', '4', '--out', same]);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /4\/8 steps .*--stop-after reached; --resume continues/);
    // the pro phase is the last quarter here (steps 6-7), so a step-4 n2same checkpoint can be continued
    const p = await cli(['train', '--method', 'n2same-pro', ...args, '--last', '0.25', '--resume-from', same, '--out', join(dir, 'pro'), '--json']);
    assert.equal(p.code, 0, p.err);
    assert.equal((JSON.parse(p.out) as { steps: number }).steps, 8);
    const steps = readFileSync(join(dir, 'pro', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    assert.equal(steps.at(-1), 8);
    assert.ok(steps.includes(4), 'the n2same metrics came along');
    const refused = await cli(['train', '--method', 'n2v', ...args, '--resume-from', same, '--out', join(dir, 'n2v')]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /made with other settings \(method/);
  } finally {
    cleanup();
  }
});

test('hush train: usage errors name the problem', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { clean, noisy } = await folders(dir);
    const cases: [string[], RegExp][] = [
      [['train', '--data', clean, '--out', dir], /missing --method \(one of n2true, n2n, n2self, n2v, n2same, n2same-pro, r2r, gan\)/],
      [['train', '--method', 'r2r', '--noisy', clean, '--out', dir], /--method r2r recorrupts with Gaussian noise of the data's sigma: give --sigma255/],
      [['train', '--method', 'n2tru', '--data', clean, '--out', dir], /Did you mean 'n2true'\?/],
      [['train', '--method', 'n2true', '--data', clean, '--out', dir], /--data holds clean images: give --noise MODEL/],
      [['train', '--method', 'n2true', '--noisy', noisy, '--out', dir], /--method n2true cannot train from noisy data/],
      [['train', '--method', 'n2true', '--data', clean, '--noise', 'gaussian', '--sigma255', '25', '--stride', '3', '--out', dir], /--stride does not apply to --method n2true/],
      [['train', '--method', 'n2v', '--noisy', noisy, '--out', dir, '--budget', 'soon'], /expected a duration like 90s, 20m or 2h for --budget/],
      [['train', '--method', 'n2v', '--noisy', join(dir, 'nothing-here'), '--out', dir], /'.*nothing-here' does not exist/],
      [['train', '--method', 'n2v', '--noisy', noisy], /missing --out DIR/],
      [['train', '--method', 'n2v', ...small.slice(0, 4), '--noisy', noisy, '--patch', '64', '--out', dir], /smaller than the 64x64 patches; use a smaller --patch/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re);
    }
  } finally {
    cleanup();
  }
});

test('hush train --method gan: from clean data; the VGG file or --feature-weight 0 is required', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { clean } = await folders(dir);
    const common = ['train', '--method', 'gan', '--channels', '1', '--data', clean, '--noise', 'gaussian', '--sigma255', '25', '--patch', '32', '--batch', '2', '--steps', '2'];
    const missing = await cli([...common, '--out', join(dir, 'g0')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--method gan needs --vgg FILE for its feature loss/);
    const r = await cli([...common, '--feature-weight', '0', '--model-options', 'width=4,residual-blocks=1', '--out', join(dir, 'g1'), '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { steps: number }).steps, 2);
    assert.equal((JSON.parse(r.out) as { engine: string }).engine, 'onnx', 'no feature loss: the onnxruntime engine by default');
    assert.ok(existsSync(join(dir, 'g1', 'best', 'model.onnx')));
    const t = await cli([...common, '--feature-weight', '0', '--model-options', 'width=4,residual-blocks=1', '--engine', 'tfjs', '--steps', '1', '--out', join(dir, 'g2')]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /^trained gan-generator \(readme, tfjs engine\): 1\/1 steps/);
  } finally {
    cleanup();
  }
});

test('train flag parsers', () => {
  assert.deepEqual(parseKeyValues(spec, 'x', 'depth=12, width=48,feature-norm=none,flag=true'), { depth: 12, width: 48, featureNorm: 'none', flag: true });
  assert.equal(parseDuration(spec, 'budget', '90s'), 90);
  assert.equal(parseDuration(spec, 'budget', '20m'), 1200);
  assert.equal(parseDuration(spec, 'budget', '2h'), 7200);
  assert.equal(parseDuration(spec, 'budget', '15'), 15);
});
