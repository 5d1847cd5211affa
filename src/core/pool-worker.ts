/** Worker side of pool.ts: imports the task's module once and runs it on each tile it is sent. */
import { parentPort } from 'node:worker_threads';
import type { Image } from './image.js';

type TileFn = (image: Image, options: unknown) => Image;
const cache = new Map<string, Record<string, TileFn>>();

parentPort?.on('message', async (msg: { id: number; moduleUrl: string; exportName: string; options: unknown; image: Image }) => {
  try {
    let mod = cache.get(msg.moduleUrl);
    if (!mod) {
      mod = (await import(msg.moduleUrl)) as Record<string, TileFn>;
      cache.set(msg.moduleUrl, mod);
    }
    const fn = mod[msg.exportName];
    if (typeof fn !== 'function') throw new Error(`pool: ${msg.exportName} is not exported by ${msg.moduleUrl}`);
    const result = fn(msg.image, msg.options);
    parentPort!.postMessage({ id: msg.id, data: result.data }, [result.data.buffer as ArrayBuffer]);
  } catch (e) {
    const err = e as Error & { code?: string };
    parentPort!.postMessage({ id: msg.id, error: { message: err.message, code: err.code, name: err.name } });
  }
});
