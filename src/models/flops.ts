/**
 * Floating-point operations of a built network at a concrete input size, counted
 * from its layer graph: each convolution costs 2 * kh * kw * Cin * Cout per output
 * pixel (per input pixel for a transposed convolution), dense layers 2 * in * out.
 * Normalisation, activations, pooling and merges are left out (a few operations per
 * value, under 2 % of any zoo model).
 */
import type { LayersModel } from '@tensorflow/tfjs';

type Shape = (number | null)[];

interface LayerLike {
  getClassName(): string;
  computeOutputShape(shape: Shape | Shape[]): Shape | Shape[];
  inboundNodes: { inputTensors: { id: number }[]; outputTensors: { id: number }[] }[];
  getConfig(): Record<string, unknown>;
}

/** FLOPs of one forward pass of `model` on a batch of one height x width image. */
export function countFlops(model: LayersModel, height: number, width: number): number {
  const shapes = new Map<number, Shape>();
  for (const input of model.inputs) {
    const s = input.shape.slice();
    if (s.length === 4) {
      s[1] = height;
      s[2] = width;
    }
    s[0] = 1;
    shapes.set(input.id, s);
  }
  let flops = 0;
  for (const layer of model.layers as unknown as LayerLike[]) {
    const node = layer.inboundNodes[0];
    if (!node || node.inputTensors.length === 0 || layer.getClassName() === 'InputLayer') continue;
    const ins = node.inputTensors.map((t) => shapes.get(t.id));
    if (ins.some((s) => s === undefined)) throw new Error(`countFlops: layer ${layer.getClassName()} is not in topological order`);
    const inShapes = ins as Shape[];
    const out = layer.computeOutputShape(inShapes.length === 1 ? inShapes[0] : inShapes);
    const outs = (Array.isArray(out[0]) || out[0] === undefined ? out : [out]) as Shape[];
    node.outputTensors.forEach((t, i) => shapes.set(t.id, outs[i] ?? outs[0]));
    const cls = layer.getClassName();
    const config = layer.getConfig();
    if (cls === 'Conv2D' || cls === 'Conv2DTranspose') {
      const [kh, kw] = config.kernelSize as number[];
      const cin = inShapes[0][3] as number;
      const cout = config.filters as number;
      const ref = cls === 'Conv2D' ? outs[0] : inShapes[0];
      flops += 2 * kh * kw * cin * cout * (ref[1] as number) * (ref[2] as number);
    } else if (cls === 'Dense') {
      const inner = inShapes[0][inShapes[0].length - 1] as number;
      const rest = inShapes[0].slice(1, -1).reduce<number>((a, b) => a * (b ?? 1), 1);
      flops += 2 * inner * (config.units as number) * rest;
    }
  }
  return flops;
}
