/**
 * Data-parallel training on worker threads: the batch is split into shards, each
 * thread (the calling one and threads-1 workers, each with its own wasm backend)
 * computes the loss gradient of its shard on a replica of the model, the gradients
 * are averaged (weighted by shard size) and one optimizer step is applied to the
 * main model, whose weights are then sent to the replicas. The wasm backend runs
 * one thread per instance in Node (tfjs disables its threaded build there), so this
 * is how training uses more than one core.
 *
 * Batch normalisation sees each shard's statistics (like PyTorch's DataParallel
 * without SyncBatchNorm); the replicas' moving averages are averaged after each step.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LayersModel, Optimizer, Tensor } from '@tensorflow/tfjs';
import { invalidParameter } from '../core/errors.js';
import { checkNumber } from '../core/validate.js';
import { loadTfjs, type Tfjs } from '../runtime/tfjs.js';
import { modelShardLoss, type ShardLossSpec } from './shard-loss.js';

export interface TrainBatch {
  /** network input(s), NHWC, concatenated over the batch */
  inputs: Float32Array[];
  /** the shape of each input (batch first) */
  inputShapes: number[][];
  /** the target, NHWC, same batch */
  target: Float32Array;
  targetShape: number[];
  /** optional loss mask (1 = counts), same shape as the target */
  mask?: Float32Array;
}

export interface DataParallelOptions {
  /** threads in all, the calling one included (default: HUSH_THREADS or the number of cores) */
  threads?: number;
}

interface WorkerReply {
  id: number;
  loss?: number;
  grads?: Float32Array;
  state?: Float32Array;
  error?: string;
}

function sliceBatch(data: Float32Array, shape: number[], from: number, to: number): { data: Float32Array; shape: number[] } {
  const per = data.length / shape[0];
  return { data: data.slice(from * per, to * per), shape: [to - from, ...shape.slice(1)] };
}

function flatten(tf: Tfjs, tensors: Tensor[]): Float32Array {
  const total = tensors.reduce((n, t) => n + t.size, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, at);
    at += t.size;
  }
  void tf;
  return out;
}

/** Serialises a model's topology and weights for a replica. */
export async function modelArtifacts(tf: Tfjs, model: LayersModel): Promise<{ topology: unknown; specs: unknown; weights: ArrayBuffer }> {
  let captured: { topology: unknown; specs: unknown; weights: ArrayBuffer } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      captured = { topology: a.modelTopology, specs: a.weightSpecs, weights: tf.io.CompositeArrayBuffer.join(a.weightData) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return captured!;
}

export class DataParallelTrainer {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly tf: Tfjs,
    readonly model: LayersModel,
    readonly optimizer: Optimizer,
    readonly threads: number,
  ) {}

  /** Starts threads-1 workers holding replicas of `model`. */
  static async create(model: LayersModel, optimizer: Optimizer, options: DataParallelOptions = {}): Promise<DataParallelTrainer> {
    const env = Number(process.env.HUSH_THREADS);
    const fallback = Number.isInteger(env) && env > 0 ? env : availableParallelism();
    const threads = checkNumber('DataParallelTrainer', 'options.threads', options.threads ?? fallback, { integer: true, min: 1, max: 64 });
    const { tf, backend } = await loadTfjs();
    const trainer = new DataParallelTrainer(tf, model, optimizer, threads);
    if (threads > 1) {
      const art = await modelArtifacts(tf, model);
      const url = new URL('./data-parallel-worker.js', import.meta.url);
      for (let i = 1; i < threads; i++) {
        const w = new Worker(url, { workerData: { backend, topology: art.topology, specs: art.specs, weights: art.weights } });
        w.on('message', (m: WorkerReply) => {
          const p = trainer.pending.get(m.id);
          if (!p) return;
          trainer.pending.delete(m.id);
          if (m.error) p.reject(new Error(`data-parallel worker: ${m.error}`));
          else p.resolve(m);
        });
        const failAll = (e: Error) => {
          for (const p of trainer.pending.values()) p.reject(e);
          trainer.pending.clear();
        };
        w.on('error', failAll);
        // a worker that stops without an 'error' (process.exit in it, terminate) would leave its step waiting for ever
        w.on('exit', (code) => failAll(new Error(`data-parallel worker: the worker thread exited (code ${code})`)));
        trainer.workers.push(w);
      }
      await Promise.all(trainer.workers.map((w) => trainer.ask(w, { kind: 'ping' })));
    }
    return trainer;
  }

  private ask(w: Worker, msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ ...msg, id }, transfer);
    });
  }

  /** One optimizer step on `batch`; returns the batch's mean loss. */
  async step(batch: TrainBatch, loss: ShardLossSpec): Promise<number> {
    const tf = this.tf;
    const n = batch.targetShape[0];
    const shards = Math.min(this.threads, n);
    if (shards < 1) throw invalidParameter('DataParallelTrainer.step', 'batch', 'at least one item', n);
    const bounds = Array.from({ length: shards + 1 }, (_, i) => Math.round((i * n) / shards));
    const shard = (i: number) => ({
      inputs: batch.inputs.map((d, k) => sliceBatch(d, batch.inputShapes[k], bounds[i], bounds[i + 1])),
      target: sliceBatch(batch.target, batch.targetShape, bounds[i], bounds[i + 1]),
      mask: batch.mask ? sliceBatch(batch.mask, batch.targetShape, bounds[i], bounds[i + 1]) : undefined,
    });
    const replies = this.workers.slice(0, shards - 1).map((w, i) => {
      const s = shard(i + 1);
      const transfer = [...s.inputs.map((x) => x.data.buffer as ArrayBuffer), s.target.data.buffer as ArrayBuffer, ...(s.mask ? [s.mask.data.buffer as ArrayBuffer] : [])];
      return this.ask(w, { kind: 'step', shard: s, loss }, transfer);
    });
    // the calling thread's shard, while the workers run theirs
    const own = shard(0);
    const trainable = this.model.trainableWeights.map((w) => w.read());
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => {
        const xs = own.inputs.map((x) => tf.tensor(x.data, x.shape));
        return modelShardLoss(tf, this.model, xs, tf.tensor(own.target.data, own.target.shape), own.mask ? tf.tensor(own.mask.data, own.mask.shape) : undefined, loss);
      }) as ReturnType<typeof tf.scalar>,
      trainable.map((t) => this.variableOf(t)),
    );
    const names = this.model.trainableWeights.map((w) => this.variableOf(w.read()).name);
    const ownWeight = (bounds[1] - bounds[0]) / n;
    let total = value.dataSync()[0] * ownWeight;
    value.dispose();
    const averaged: Record<string, Tensor> = {};
    const results = await Promise.all(replies);
    tf.tidy(() => {
      let offset = 0;
      const flatOthers = results.map((r) => r.grads as Float32Array);
      names.forEach((name) => {
        const g = grads[name];
        let acc = tf.mul(g, ownWeight);
        results.forEach((r, i) => {
          const wgt = (bounds[i + 2] - bounds[i + 1]) / n;
          acc = tf.add(acc, tf.mul(tf.tensor(flatOthers[i].subarray(offset, offset + g.size), g.shape), wgt));
        });
        offset += g.size;
        averaged[name] = tf.keep(acc);
      });
    });
    results.forEach((r, i) => (total += (r.loss as number) * ((bounds[i + 2] - bounds[i + 1]) / n)));
    tf.dispose(Object.values(grads));
    this.optimizer.applyGradients(averaged);
    tf.dispose(Object.values(averaged));
    if (this.workers.length > 0) await this.syncReplicas(results.map((r) => r.state as Float32Array));
    return total;
  }

  private variableOf(t: Tensor) {
    return t as unknown as ReturnType<Tfjs['variable']>;
  }

  /** Averages the non-trainable state (BN moving statistics) and sends every weight to the replicas. */
  private async syncReplicas(states: Float32Array[]): Promise<void> {
    const tf = this.tf;
    const nonTrainable = this.model.nonTrainableWeights;
    if (nonTrainable.length > 0 && states.length > 0) {
      let offset = 0;
      for (const w of nonTrainable) {
        const v = w.read();
        const mine = v.dataSync() as Float32Array;
        const avg = mine.slice();
        for (const s of states) for (let i = 0; i < avg.length; i++) avg[i] += s[offset + i];
        for (let i = 0; i < avg.length; i++) avg[i] /= states.length + 1;
        const t = tf.tensor(avg, v.shape);
        w.write(t);
        t.dispose();
        offset += v.size;
      }
    }
    const weights = flatten(tf, this.model.weights.map((w) => w.read()));
    await Promise.all(this.workers.map((w) => this.ask(w, { kind: 'weights', weights: weights.slice() })));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
