/**
 * The ONNX Runtime side of inference: an exported hush model (src/onnx/export.ts) in
 * an onnxruntime-node session, as a TileRunner for inferTiled. onnxruntime-node is
 * imported on first use only, so code that never runs a network never loads it.
 *
 * The session uses `threads` intra-op threads (default: the number of cores, or
 * HUSH_THREADS), full graph optimisation and sequential execution; the hush metadata
 * (channels, multiple, normalisation, noise) is read from the model's metadata_props.
 * A session holds native memory: call dispose() when done.
 */
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { HushError, decodeError, invalidParameter } from '../core/errors.js';
import { checkNumber } from '../core/validate.js';
import type { HushModelMetadata } from '../models/hush-model.js';
import { checkMetadata } from '../models/io.js';
import { decodeModel } from '../onnx/proto.js';
import type { TileRunExtra, TileRunner } from './tiled.js';

type Ort = typeof import('onnxruntime-node');

let ortPromise: Promise<Ort> | undefined;

/** onnxruntime-node, imported once on first use. */
export async function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').catch((e: unknown) => {
    ortPromise = undefined;
    throw new HushError('ERR_UNSUPPORTED', `onnxruntime-node could not be loaded (${(e as Error).message}); use --runtime tfjs`, { cause: e });
  });
  return ortPromise;
}

export interface OnnxSessionOptions {
  /** intra-op threads (default: HUSH_THREADS or the number of cores) */
  threads?: number;
}

/** An ONNX model in a session, with its hush metadata; also a TileRunner. */
export interface OnnxModel extends TileRunner {
  readonly metadata?: HushModelMetadata;
  /** where it came from (a path, or 'memory') */
  readonly source: string;
  readonly threads: number;
  dispose(): Promise<void>;
}

/** The hush metadata stored in an ONNX model's metadata_props (undefined if there is none). */
export function onnxMetadata(bytes: Uint8Array, file = 'memory'): HushModelMetadata | undefined {
  let props: { key?: string; value?: string }[] | undefined;
  try {
    props = decodeModel(bytes).metadata_props;
  } catch (e) {
    throw decodeError('loadOnnxModel', file, `not an ONNX model (${(e as Error).message})`, e);
  }
  const entry = props?.find((p) => p.key === 'hush');
  if (!entry?.value) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(entry.value);
  } catch (e) {
    throw decodeError('loadOnnxModel', file, `its hush metadata is not JSON (${(e as Error).message})`, e);
  }
  return checkMetadata('loadOnnxModel', file, json);
}

function defaultThreads(): number {
  const env = Number(process.env.HUSH_THREADS);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}

/** Opens an ONNX model (a .onnx path or its bytes) in an onnxruntime-node session. */
export async function loadOnnxModel(source: string | Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxModel> {
  const fn = 'loadOnnxModel';
  const threads = checkNumber(fn, 'options.threads', options.threads ?? defaultThreads(), { integer: true, min: 1, max: 256 });
  let bytes: Uint8Array;
  let file = 'memory';
  if (typeof source === 'string') {
    file = source;
    try {
      bytes = await readFile(source);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new HushError('ERR_IO', `${fn}: cannot read '${source}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { file: source, cause: e });
    }
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else {
    throw invalidParameter(fn, 'source', 'a .onnx path or the bytes of an ONNX model', source);
  }
  const metadata = onnxMetadata(bytes, file);
  const ort = await loadOrt();
  let session: Awaited<ReturnType<Ort['InferenceSession']['create']>>;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  } catch (e) {
    throw decodeError(fn, file, `onnxruntime could not load it (${(e as Error).message})`, e);
  }
  const inputName = session.inputNames[0];
  const conditioned = session.inputNames.includes('exposure_ratio');
  const meta0 = session.inputMetadata[0] as { isTensor?: boolean; shape?: readonly (number | string)[] };
  const channels = metadata?.channels ?? (typeof meta0.shape?.[1] === 'number' ? meta0.shape[1] : 1);
  let released = false;
  return {
    source: file,
    threads,
    channels,
    multiple: metadata?.multiple ?? 1,
    conditioned,
    ...(metadata ? { metadata, normalization: metadata.normalization } : {}),
    async run(batch: Float32Array, n: number, c: number, h: number, w: number, extra?: TileRunExtra): Promise<Float32Array> {
      if (released) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the session of '${file}' was disposed`);
      const feeds: Record<string, InstanceType<Ort['Tensor']>> = { [inputName]: new ort.Tensor('float32', batch, [n, c, h, w]) };
      if (conditioned) {
        const ratio = extra?.exposureRatio;
        if (ratio === undefined) throw invalidParameter(fn, 'extra.exposureRatio', 'a positive number (the model is conditioned on the exposure-time ratio)', ratio);
        feeds.exposure_ratio = new ort.Tensor('float32', new Float32Array(n).fill(ratio), [n, 1]);
      }
      const results = await session.run(feeds);
      const out = results[session.outputNames[0]];
      const data = out.data as Float32Array;
      if (data.length !== n * c * h * w) {
        out.dispose();
        throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${file}' gives ${out.dims.join('x')} for a ${n}x${c}x${h}x${w} input; hush runs image-to-image networks only`);
      }
      return data;
    },
    async dispose() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
