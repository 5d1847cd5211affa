/**
 * The subset of the ONNX protobuf schema (onnx/onnx.proto, proto2, IR version 8)
 * that hush writes and reads back: models, graphs, nodes, attributes, tensors and
 * their types and shapes. Field names and numbers are the official ones; the schema
 * is a protobufjs JSON descriptor, so encoding and decoding are protobufjs's and no
 * wire format is hand-written here. Repeated scalars follow proto2: expanded, except
 * the TensorProto data fields that onnx.proto marks [packed = true].
 *
 * Objects use the schema's own snake_case field names. int64 fields accept numbers
 * on encode and come back as numbers from decodeModel.
 */
import protobuf from 'protobufjs/light.js';

/** TensorProto.DataType values hush uses. */
export const TENSOR_TYPE = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values hush uses. */
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface OnnxTensor {
  name?: string;
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  raw_data?: Uint8Array;
  doc_string?: string;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  /** UTF-8 bytes (the schema's type is bytes) */
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  doc_string?: string;
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: OnnxAttribute[];
  doc_string?: string;
}

/** One dimension: a number, a symbolic name, or neither (unknown). */
export interface OnnxDimension {
  dim_value?: number;
  dim_param?: string;
  denotation?: string;
}

export interface OnnxValueInfo {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: OnnxDimension[] } }; denotation?: string };
  doc_string?: string;
}

export interface OnnxGraph {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  doc_string?: string;
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  value_info?: OnnxValueInfo[];
}

export interface OnnxOperatorSetId {
  domain?: string;
  version: number;
}

export interface OnnxStringStringEntry {
  key: string;
  value: string;
}

export interface OnnxModel {
  ir_version?: number;
  opset_import?: OnnxOperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: OnnxGraph;
  metadata_props?: OnnxStringStringEntry[];
}

const packed = { packed: true };

/** onnx.proto's messages that hush needs, with their official field numbers. */
export const ONNX_SCHEMA: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            ref_attr_name: { type: 'string', id: 21 },
            doc_string: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            tensors: { rule: 'repeated', type: 'TensorProto', id: 10 },
            graphs: { rule: 'repeated', type: 'GraphProto', id: 11 },
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSOR: 11,
                SPARSE_TENSORS: 12,
                TYPE_PROTO: 13,
                TYPE_PROTOS: 14,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            doc_string: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            domain: { type: 'string', id: 7 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            doc_string: { type: 'string', id: 6 },
          },
        },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            data_type: { type: 'int32', id: 2 },
            float_data: { rule: 'repeated', type: 'float', id: 4, options: packed },
            int32_data: { rule: 'repeated', type: 'int32', id: 5, options: packed },
            string_data: { rule: 'repeated', type: 'bytes', id: 6 },
            int64_data: { rule: 'repeated', type: 'int64', id: 7, options: packed },
            name: { type: 'string', id: 8 },
            doc_string: { type: 'string', id: 12 },
            raw_data: { type: 'bytes', id: 9 },
            external_data: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            data_location: { type: 'DataLocation', id: 14 },
            double_data: { rule: 'repeated', type: 'double', id: 10, options: packed },
            uint64_data: { rule: 'repeated', type: 'uint64', id: 11, options: packed },
          },
          nested: {
            DataLocation: { values: { DEFAULT: 0, EXTERNAL: 1 } },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dimension', id: 1 },
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: { type: 'int64', id: 1 },
                dim_param: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: {
            tensor_type: { type: 'Tensor', id: 1 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;

function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialises a ModelProto to the bytes of a .onnx file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto();
  const bytes = type.encode(type.fromObject(model as unknown as Record<string, unknown>)).finish();
  // protobufjs hands Node a Buffer (possibly a slice of its pool): give a plain Uint8Array of its own
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
}

/** Parses the bytes of a .onnx file (the schema subset above; other fields are skipped). */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, arrays: false, defaults: false }) as OnnxModel;
}

/** UTF-8 bytes for string attributes, whose schema type is bytes. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
