/**
 * Model files: what saveModel writes, and every way loadModel refuses a file, with
 * the exact messages.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel, fileSaveHandler, loadModel, runModel, saveModel } from '../../src/models/index.js';
import { createImage } from '../../src/core/image.js';
import { HushError } from '../../src/core/errors.js';

const { tf } = await loadTfjs({ backend: 'wasm' });
const dir = await mkdtemp(join(tmpdir(), 'hush-io-'));
test.after(() => rm(dir, { recursive: true, force: true }));

test('saveModel writes a tfjs layers model with the hush metadata block; custom layers reload', async () => {
  const m = await createModel('dncnn', { depth: 3, width: 4, channels: 3, normalization: { kind: 'affine', offset: 0.5, scale: 2 } });
  m.metadata.noise = { model: 'gaussian', level: 25 / 255 };
  m.metadata.training = { method: 'noise2true', data: 'BSD400 patches', steps: 10 };
  m.metadata.validation = { psnr: 28.5 };
  const where = join(dir, 'a');
  await saveModel(m, where);
  const json = JSON.parse(await readFile(join(where, 'model.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(json.format, 'layers-model');
  assert.deepEqual((json.weightsManifest as { paths: string[] }[])[0].paths, ['./weights.bin']);
  const hush = (json.userDefinedMetadata as { hush: Record<string, unknown> }).hush;
  assert.equal(hush.format, 'hush-model');
  assert.equal(hush.architecture, 'dncnn');
  assert.equal(hush.channels, 3);
  assert.deepEqual(hush.normalization, { kind: 'affine', offset: 0.5, scale: 2 });
  assert.deepEqual(hush.noise, { model: 'gaussian', level: 25 / 255 });
  assert.ok(JSON.stringify(json.modelTopology).includes('"class_name":"HushSubtract"'), 'custom layer saved under its registered name');
  const loaded = await loadModel(join(where, 'model.json'));
  assert.deepEqual(loaded.metadata, m.metadata);
  await assert.rejects(saveModel(m, where), /exists/);
  await saveModel(m, where, { ifExists: 'overwrite' });
  m.dispose();
  loaded.dispose();
});

test('loadModel refuses a plain tfjs model, with the house-style message', async () => {
  const plain = tf.sequential({ layers: [tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', inputShape: [null, null, 1] })] });
  const where = join(dir, 'plain');
  await plain.save(fileSaveHandler(where));
  await assert.rejects(loadModel(where), (e: HushError) => {
    assert.equal(e.code, 'ERR_DECODE');
    assert.equal(
      e.message,
      `loadModel: cannot decode '${join(where, 'model.json')}': no hush metadata block (userDefinedMetadata.hush): a plain TensorFlow.js model? hush loads models written by saveModel or 'hush train'`,
    );
    return true;
  });
  plain.dispose();
});

test('loadModel: channels that do not match, a missing file, not JSON, truncated weights, another version', async () => {
  const m = await createModel('dncnn', { depth: 3, width: 4 });
  const where = join(dir, 'grey');
  await saveModel(m, where);
  const jsonPath = join(where, 'model.json');
  await assert.rejects(loadModel(where, { channels: 3 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: `loadModel: the model takes grey (1-channel) images but the image is RGB (3-channel); '${jsonPath}' was trained for grey images`,
  });
  await assert.rejects(loadModel(join(dir, 'nothing')), { code: 'ERR_IO', message: `loadModel: cannot read '${join(dir, 'nothing', 'model.json')}': no such file` });
  const bad = join(dir, 'bad');
  await saveModel(m, bad);
  await writeFile(join(bad, 'model.json'), '{"modelTopology": ');
  await assert.rejects(loadModel(bad), { code: 'ERR_DECODE', message: /^loadModel: cannot decode '.*model\.json': not JSON/ });
  const cut = join(dir, 'cut');
  await saveModel(m, cut);
  await truncate(join(cut, 'weights.bin'), 100);
  await assert.rejects(loadModel(cut), { code: 'ERR_DECODE', message: /weights hold 100 bytes but the manifest needs \d+ \(file truncated\?\)$/ });
  const old = join(dir, 'v2');
  await saveModel(m, old);
  const json = JSON.parse(await readFile(join(old, 'model.json'), 'utf8'));
  json.userDefinedMetadata.hush.version = 2;
  await writeFile(join(old, 'model.json'), JSON.stringify(json));
  await assert.rejects(loadModel(old), { code: 'ERR_UNSUPPORTED', message: `loadModel: '${join(old, 'model.json')}' is a hush model of version 2; this hush reads version 1` });
  m.dispose();
});

test('runModel refuses an image whose channels the model was not trained for', async () => {
  const m = await createModel('dncnn', { depth: 3, width: 4, channels: 3 });
  await assert.rejects(runModel(m, createImage(8, 8, 1)), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'runModel: the model takes RGB (3-channel) images but the image is grey (1-channel); convert the image to RGB or use a model trained for grey images',
  });
  const g = await createModel('dncnn', { depth: 3, width: 4, channels: 1 });
  await assert.rejects(runModel(g, createImage(8, 8, 3)), {
    message: "runModel: the model takes grey (1-channel) images but the image is RGB (3-channel); convert the image to grey, use a model trained for RGB, or pass channelMode: 'per-channel'",
  });
  m.dispose();
  g.dispose();
});
