/**
 * The browser side of ONNX inference: an exported hush model in an onnxruntime-web
 * (wasm) session, as a TileRunner, the same contract as src/runtime/onnx.ts but with
 * no Node imports (no fs, no onnxruntime-node), so a web bundle can take it.
 * onnxruntime-web is an optional peer dependency: the page that uses this installs
 * it; it is imported on first use. It also runs under Node, which is how the tests
 * check it against onnxruntime-node.
 */
import { HushError, invalidParameter } from '../core/errors.js';
import { decodeModel } from '../onnx/proto.js';
import type { TileRunExtra, TileRunner } from './tiled.js';
import type { InputNormalization } from '../models/normalization.js';

type OrtWeb = typeof import('onnxruntime-web');

/** The parts of the hush metadata a runner needs, read without Node-only validation code. */
export interface WebModelInfo {
  channels: number;
  multiple: number;
  normalization?: InputNormalization;
  metadata?: Record<string, unknown>;
}

export function webModelInfo(bytes: Uint8Array): WebModelInfo {
  let props: { key?: string; value?: string }[] | undefined;
  try {
    props = decodeModel(bytes).metadata_props;
  } catch (e) {
    throw new HushError('ERR_DECODE', `loadOnnxModelWeb: not an ONNX model (${(e as Error).message})`, { cause: e });
  }
  const raw = props?.find((p) => p.key === 'hush')?.value;
  if (!raw) return { channels: 1, multiple: 1 };
  const m = JSON.parse(raw) as { format?: string; channels?: number; multiple?: number; normalization?: InputNormalization };
  if (m.format !== 'hush-model' || (m.channels !== 1 && m.channels !== 3) || !Number.isInteger(m.multiple)) {
    throw new HushError('ERR_DECODE', 'loadOnnxModelWeb: the hush metadata block of this ONNX model is malformed');
  }
  return { channels: m.channels, multiple: m.multiple as number, normalization: m.normalization, metadata: m as Record<string, unknown> };
}

export interface OnnxWebModel extends TileRunner {
  readonly metadata?: Record<string, unknown>;
  dispose(): Promise<void>;
}

/** Opens ONNX model bytes in onnxruntime-web (wasm, `threads` wasm threads where the page allows them; default 1). */
export async function loadOnnxModelWeb(bytes: Uint8Array, options: { threads?: number } = {}): Promise<OnnxWebModel> {
  if (!(bytes instanceof Uint8Array)) throw invalidParameter('loadOnnxModelWeb', 'bytes', 'the bytes of an ONNX model (Uint8Array)', bytes);
  const info = webModelInfo(bytes);
  let ort: OrtWeb;
  try {
    ort = await import('onnxruntime-web');
  } catch (e) {
    throw new HushError('ERR_UNSUPPORTED', `loadOnnxModelWeb: onnxruntime-web is not installed (npm install onnxruntime-web): ${(e as Error).message}`, { cause: e });
  }
  ort.env.wasm.numThreads = options.threads ?? 1;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const conditioned = session.inputNames.includes('exposure_ratio');
  let released = false;
  return {
    channels: info.channels,
    multiple: info.multiple,
    conditioned,
    ...(info.normalization ? { normalization: info.normalization } : {}),
    ...(info.metadata ? { metadata: info.metadata } : {}),
    async run(batch: Float32Array, n: number, c: number, h: number, w: number, extra?: TileRunExtra): Promise<Float32Array> {
      if (released) throw new HushError('ERR_INVALID_PARAMETER', 'loadOnnxModelWeb: the session was disposed');
      const feeds: Record<string, InstanceType<OrtWeb['Tensor']>> = { [session.inputNames[0]]: new ort.Tensor('float32', batch, [n, c, h, w]) };
      if (conditioned) {
        if (extra?.exposureRatio === undefined) throw invalidParameter('loadOnnxModelWeb', 'extra.exposureRatio', 'a positive number (the model is conditioned on the exposure-time ratio)', undefined);
        feeds.exposure_ratio = new ort.Tensor('float32', new Float32Array(n).fill(extra.exposureRatio), [n, 1]);
      }
      const out = (await session.run(feeds))[session.outputNames[0]];
      return out.data as Float32Array;
    },
    async dispose() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
