/**
 * ONNX export of hush models (and of tfjs LayersModels made of the mapped layers):
 * exportOnnx gives the bytes of an opset-17 model, saveOnnx writes them atomically.
 * The protobuf schema subset and its encode/decode helpers come along for tools that
 * read the files back. Node-only (saveOnnx writes files); imports tfjs, not a backend.
 */
export {
  exportOnnx,
  saveOnnx,
  ONNX_OPSET,
  ONNX_IR_VERSION,
  ONNX_LAYER_CLASSES,
  BATCH_NORM_MODES,
  type BatchNormMode,
  type ExportOnnxOptions,
  type SaveOnnxOptions,
} from './export.js';
export {
  ONNX_SCHEMA,
  TENSOR_TYPE,
  ATTRIBUTE_TYPE,
  encodeModel,
  decodeModel,
  type OnnxModel,
  type OnnxGraph,
  type OnnxNode,
  type OnnxAttribute,
  type OnnxTensor,
  type OnnxValueInfo,
  type OnnxDimension,
  type OnnxOperatorSetId,
  type OnnxStringStringEntry,
} from './proto.js';
