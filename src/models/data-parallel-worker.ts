/**
 * A data-parallel replica: holds a copy of the model on its own wasm backend,
 * computes the loss gradient of the shards it is sent, and takes new weights.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LayersModel } from '@tensorflow/tfjs';
import { loadTfjs, type TfjsBackend } from '../runtime/tfjs.js';
import { modelShardLoss, type ShardLossSpec } from './shard-loss.js';
import './layers/index.js';

interface Init {
  backend: TfjsBackend;
  topology: object;
  specs: Parameters<typeof import('@tensorflow/tfjs').io.fromMemory>[1];
  weights: ArrayBuffer;
}

const init = workerData as Init;
const { tf } = await loadTfjs({ backend: init.backend });
const model: LayersModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: init.topology, weightSpecs: init.specs as never, weightData: init.weights }));

type Msg =
  | { id: number; kind: 'ping' }
  | { id: number; kind: 'weights'; weights: Float32Array }
  | {
      id: number;
      kind: 'step';
      loss: ShardLossSpec;
      shard: { inputs: { data: Float32Array; shape: number[] }[]; target: { data: Float32Array; shape: number[] }; mask?: { data: Float32Array; shape: number[] } };
    };

parentPort!.on('message', (msg: Msg) => {
  try {
    if (msg.kind === 'ping') {
      parentPort!.postMessage({ id: msg.id });
    } else if (msg.kind === 'weights') {
      let at = 0;
      for (const w of model.weights) {
        const v = w.read();
        const t = tf.tensor(msg.weights.subarray(at, at + v.size), v.shape);
        w.write(t);
        t.dispose();
        at += v.size;
      }
      parentPort!.postMessage({ id: msg.id });
    } else {
      const s = msg.shard;
      const vars = model.trainableWeights.map((w) => w.read() as unknown as ReturnType<typeof tf.variable>);
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const xs = s.inputs.map((x) => tf.tensor(x.data, x.shape));
            return modelShardLoss(tf, model, xs, tf.tensor(s.target.data, s.target.shape), s.mask ? tf.tensor(s.mask.data, s.mask.shape) : undefined, msg.loss);
          }) as ReturnType<typeof tf.scalar>,
        vars,
      );
      const list = vars.map((v) => grads[v.name]);
      const flat = new Float32Array(list.reduce((n, g) => n + g.size, 0));
      let at = 0;
      for (const g of list) {
        flat.set(g.dataSync() as Float32Array, at);
        at += g.size;
      }
      const states = model.nonTrainableWeights.map((w) => w.read());
      const state = new Float32Array(states.reduce((n, t) => n + t.size, 0));
      at = 0;
      for (const t of states) {
        state.set(t.dataSync() as Float32Array, at);
        at += t.size;
      }
      const loss = value.dataSync()[0];
      tf.dispose([value, ...list]);
      parentPort!.postMessage({ id: msg.id, loss, grads: flat, state }, [flat.buffer, state.buffer]);
    }
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: (e as Error).message });
  }
});
