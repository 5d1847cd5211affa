import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disposePool, poolSize, runJobs, runTiled } from '../../src/core/pool.js';
import { boxFilter } from '../helpers/box-filter.js';
import { randomImage } from '../helpers/images.js';

const moduleUrl = new URL('../helpers/box-filter.js', import.meta.url).href;
const poolUrl = new URL('../../src/core/pool.js', import.meta.url).href;

/** Tasks written as data: modules, so no helper file is needed: the worker's thread id, a crash, a slow tile. */
const tasksUrl =
  'data:text/javascript,' +
  encodeURIComponent(`
import { threadId } from 'node:worker_threads';
export function threadIdTile(image) { return { ...image, data: new Float32Array(image.data.length).fill(threadId) }; }
export function crashTile(image, options) {
  if (image.width * image.height > options.crashAbove) process.exit(7);
  return image;
}
`);

function threadIds(data: Float32Array): number[] {
  return [...new Set(data)].sort((a, b) => a - b);
}

test('tiled runs on worker threads equal the untiled result exactly', async () => {
  const im = randomImage(97, 83, 3, 5);
  const whole = boxFilter(im, { radius: 2 });
  for (const [threads, tileSize] of [[2, undefined], [2, 20], [1, 31], [3, 64]] as const) {
    let last = 0;
    const r = await runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 2 } }, { threads, tileSize, overlap: 2, onProgress: (f) => (last = f) });
    assert.deepEqual(r.data, whole.data, `threads ${threads} tile ${tileSize}`);
    assert.equal(last, 1);
  }
  // one band per thread
  const r = await runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 2 } }, { threads: 2, bands: 2, overlap: 2 });
  assert.deepEqual(r.data, whole.data);
});

test('an error in a worker reaches the caller with its code', async () => {
  const im = randomImage(64, 64, 1, 6);
  await assert.rejects(
    runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 1, failOn: 10 } }, { threads: 2, tileSize: 16, overlap: 1 }),
    { code: 'ERR_INVALID_PARAMETER', message: 'boxFilter: tile too large' },
  );
  // and the pool still works afterwards
  const ok = await runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 1 } }, { threads: 2, tileSize: 16, overlap: 1 });
  assert.deepEqual(ok.data, boxFilter(im, { radius: 1 }).data);
});

test('workers are started once and reused by later calls', async () => {
  await disposePool();
  assert.equal(poolSize(), 0);
  const im = randomImage(64, 64, 1, 7);
  const task = { moduleUrl: tasksUrl, exportName: 'threadIdTile', options: {} };
  const a = await runTiled(im, task, { threads: 2, tileSize: 16, overlap: 0 });
  const idsA = threadIds(a.data);
  assert.equal(idsA.length, 2, 'both workers ran tiles');
  assert.ok(!idsA.includes(0), 'tiles ran off the main thread');
  assert.equal(poolSize(), 2);
  const b = await runTiled(im, task, { threads: 2, tileSize: 16, overlap: 0 });
  assert.deepEqual(threadIds(b.data), idsA, 'the same two threads served the second call');
  assert.equal(poolSize(), 2);
  // a call for one more thread keeps the two and adds one
  const c = await runTiled(im, task, { threads: 3, tileSize: 16, overlap: 0 });
  const idsC = threadIds(c.data);
  assert.equal(idsC.length, 3);
  for (const id of idsA) assert.ok(idsC.includes(id));
  await disposePool();
  assert.equal(poolSize(), 0);
  // after dispose, fresh threads
  const d = await runTiled(im, task, { threads: 2, tileSize: 16, overlap: 0 });
  for (const id of threadIds(d.data)) assert.ok(!idsC.includes(id), `thread ${id} is new`);
  await disposePool();
});

test('concurrent calls share the pool without mixing their tiles', async () => {
  const im1 = randomImage(80, 70, 1, 8);
  const im2 = randomImage(50, 90, 3, 9);
  const [r1, r2] = await Promise.all([
    runTiled(im1, { moduleUrl, exportName: 'boxFilter', options: { radius: 2 } }, { threads: 2, tileSize: 24, overlap: 2 }),
    runTiled(im2, { moduleUrl, exportName: 'boxFilter', options: { radius: 1 } }, { threads: 2, tileSize: 24, overlap: 1 }),
  ]);
  assert.deepEqual(r1.data, boxFilter(im1, { radius: 2 }).data);
  assert.deepEqual(r2.data, boxFilter(im2, { radius: 1 }).data);
  assert.ok(poolSize() >= 2 && poolSize() <= 4, `pool holds ${poolSize()} workers`);
  await disposePool();
});

test('a worker that crashes fails its call, and the next call gets a fresh worker', async () => {
  const im = randomImage(64, 64, 1, 10);
  await assert.rejects(
    runTiled(im, { moduleUrl: tasksUrl, exportName: 'crashTile', options: { crashAbove: 100 } }, { threads: 2, tileSize: 16, overlap: 1 }),
    /worker thread exited \(code 7\)/,
  );
  assert.ok(poolSize() <= 2);
  const ok = await runTiled(im, { moduleUrl, exportName: 'boxFilter', options: { radius: 1 } }, { threads: 2, tileSize: 16, overlap: 1 });
  assert.deepEqual(ok.data, boxFilter(im, { radius: 1 }).data);
  await disposePool();
});

test('runJobs: each job with its own options, results in the order of the jobs, errors with their code', async () => {
  const ims = [randomImage(30, 20, 1, 11), randomImage(17, 40, 1, 12), randomImage(25, 25, 3, 13)];
  const radii = [1, 2, 3];
  const expected = ims.map((im, i) => boxFilter(im, { radius: radii[i] }).data);
  for (const threads of [1, 2]) {
    const done: number[] = [];
    const jobs = ims.map((im, i) => ({ task: { moduleUrl, exportName: 'boxFilter', options: { radius: radii[i] } }, image: { ...im, data: im.data.slice() } }));
    const out = await runJobs(jobs, threads, (i) => done.push(i));
    assert.deepEqual(out, expected, `threads ${threads}`);
    assert.deepEqual(done.sort(), [0, 1, 2]);
  }
  await assert.rejects(
    runJobs(
      ims.map((im) => ({ task: { moduleUrl, exportName: 'boxFilter', options: { radius: 1, failOn: 500 } }, image: { ...im, data: im.data.slice() } })),
      2,
    ),
    { code: 'ERR_INVALID_PARAMETER', message: 'boxFilter: tile too large' },
  );
  await disposePool();
});

test('idle pooled workers do not keep the process alive', () => {
  const script = `
    import { runTiled } from ${JSON.stringify(poolUrl)};
    const im = { width: 40, height: 40, channels: 1, data: new Float32Array(1600).fill(1) };
    const r = await runTiled(im, { moduleUrl: ${JSON.stringify(moduleUrl)}, exportName: 'boxFilter', options: { radius: 1 } }, { threads: 2, tileSize: 16, overlap: 1 });
    console.log('sum', r.data.reduce((a, b) => a + b, 0));
  `;
  const dir = mkdtempSync(join(tmpdir(), 'hush-pool-test-'));
  try {
    const file = join(dir, 'run.mjs');
    writeFileSync(file, script);
    // a worker left ref'd would keep the child running until the timeout kills it (status null)
    const res = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(res.status, 0, `status ${res.status} signal ${res.signal} ${res.stderr}`);
    assert.match(res.stdout, /sum 1600/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
