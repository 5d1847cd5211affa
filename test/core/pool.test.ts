import test from 'node:test';
import assert from 'node:assert/strict';
import { runTiled } from '../../src/core/pool.js';
import { boxFilter } from '../helpers/box-filter.js';
import { randomImage } from '../helpers/images.js';

const moduleUrl = new URL('../helpers/box-filter.js', import.meta.url).href;

test('tiled runs on worker threads equal the untiled result exactly', async () => {
  const im = randomImage(97, 83, 3, 5);
  const whole = boxFilter(im, { radius: 2 });
  for (const [threads, tileSize] of [[2, undefined], [2, 20], [1, 31], [3, 64]] as const) {
    let last = 0;
    const r = await runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 2 } }, { threads, tileSize, overlap: 2, onProgress: (f) => (last = f) });
    assert.deepEqual(r.data, whole.data, `threads ${threads} tile ${tileSize}`);
    assert.equal(last, 1);
  }
});

test('an error in a worker reaches the caller with its code', async () => {
  const im = randomImage(64, 64, 1, 6);
  await assert.rejects(
    runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 1, failOn: 10 } }, { threads: 2, tileSize: 16, overlap: 1 }),
    { code: 'ERR_INVALID_PARAMETER', message: 'boxFilter: tile too large' },
  );
});
