/**
 * Backend set-up: wasm by default with its binaries found next to the installed
 * package, the cpu fallback on request, and the house-style rejection of a bad choice.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTfjs, wasmBinaryDir } from '../../src/runtime/tfjs.js';

test('loadTfjs starts the wasm backend, with the SIMD binary found from node_modules', async () => {
  const dir = wasmBinaryDir();
  assert.ok(existsSync(join(dir, 'tfjs-backend-wasm-simd.wasm')), dir);
  const { tf, backend, fallbackReason } = await loadTfjs({ backend: 'wasm' });
  assert.equal(backend, 'wasm');
  assert.equal(fallbackReason, undefined);
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), true);
});

test('the cpu backend on request, and back', async () => {
  const cpu = await loadTfjs({ backend: 'cpu' });
  assert.equal(cpu.backend, 'cpu');
  assert.equal(cpu.tf.getBackend(), 'cpu');
  const wasm = await loadTfjs({ backend: 'wasm' });
  assert.equal(wasm.tf.getBackend(), 'wasm');
});

test('a bad backend name is refused with the house-style message', async () => {
  await assert.rejects(loadTfjs({ backend: 'webgl' as 'cpu' }), { message: "loadTfjs: expected one of 'wasm', 'cpu' for options.backend but received 'webgl' (string)." });
  const saved = process.env.HUSH_TFJS_BACKEND;
  process.env.HUSH_TFJS_BACKEND = 'wsam';
  try {
    await assert.rejects(loadTfjs(), { message: "loadTfjs: expected one of 'wasm', 'cpu' for HUSH_TFJS_BACKEND but received 'wsam' (string). Did you mean 'wasm'?" });
  } finally {
    if (saved === undefined) delete process.env.HUSH_TFJS_BACKEND;
    else process.env.HUSH_TFJS_BACKEND = saved;
  }
});
