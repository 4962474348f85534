/**
 * The Sparkplug B payload (Eclipse Sparkplug 3.0, the protobuf schema of its chapter "Payloads"),
 * as a protobufjs JSON descriptor: message and field names in camelCase, field numbers and types as
 * the specification defines them (proto2; every field optional; the value of a metric, a dataset
 * cell, a template parameter and a property is a oneof). Extensions are not decoded.
 */

const scalarValue = (first: number) => ({
  intValue: { type: 'uint32', id: first },
  longValue: { type: 'uint64', id: first + 1 },
  floatValue: { type: 'float', id: first + 2 },
  doubleValue: { type: 'double', id: first + 3 },
  booleanValue: { type: 'bool', id: first + 4 },
  stringValue: { type: 'string', id: first + 5 },
});

const VALUE_FIELDS = ['intValue', 'longValue', 'floatValue', 'doubleValue', 'booleanValue', 'stringValue'];

/** protobufjs' JSON descriptor (INamespace; sparkplug.ts, the only importer of protobufjs, loads it). */
export const SPARKPLUG_SCHEMA = {
  nested: {
    Payload: {
      fields: {
        timestamp: { type: 'uint64', id: 1 },
        metrics: { rule: 'repeated', type: 'Metric', id: 2 },
        seq: { type: 'uint64', id: 3 },
        uuid: { type: 'string', id: 4 },
        body: { type: 'bytes', id: 5 },
      },
      nested: {
        Template: {
          fields: {
            version: { type: 'string', id: 1 },
            metrics: { rule: 'repeated', type: 'Metric', id: 2 },
            parameters: { rule: 'repeated', type: 'Parameter', id: 3 },
            templateRef: { type: 'string', id: 4 },
            isDefinition: { type: 'bool', id: 5 },
          },
          nested: {
            Parameter: {
              oneofs: { value: { oneof: VALUE_FIELDS } },
              fields: {
                name: { type: 'string', id: 1 },
                type: { type: 'uint32', id: 2 },
                ...scalarValue(3),
              },
            },
          },
        },
        DataSet: {
          fields: {
            numOfColumns: { type: 'uint64', id: 1 },
            columns: { rule: 'repeated', type: 'string', id: 2 },
            types: { rule: 'repeated', type: 'uint32', id: 3 },
            rows: { rule: 'repeated', type: 'Row', id: 4 },
          },
          nested: {
            DataSetValue: {
              oneofs: { value: { oneof: VALUE_FIELDS } },
              fields: scalarValue(1),
            },
            Row: {
              fields: { elements: { rule: 'repeated', type: 'DataSetValue', id: 1 } },
            },
          },
        },
        PropertyValue: {
          oneofs: {
            value: { oneof: [...VALUE_FIELDS, 'propertysetValue', 'propertysetsValue'] },
          },
          fields: {
            type: { type: 'uint32', id: 1 },
            isNull: { type: 'bool', id: 2 },
            ...scalarValue(3),
            propertysetValue: { type: 'PropertySet', id: 9 },
            propertysetsValue: { type: 'PropertySetList', id: 10 },
          },
        },
        PropertySet: {
          fields: {
            keys: { rule: 'repeated', type: 'string', id: 1 },
            values: { rule: 'repeated', type: 'PropertyValue', id: 2 },
          },
        },
        PropertySetList: {
          fields: { propertyset: { rule: 'repeated', type: 'PropertySet', id: 1 } },
        },
        MetaData: {
          fields: {
            isMultiPart: { type: 'bool', id: 1 },
            contentType: { type: 'string', id: 2 },
            size: { type: 'uint64', id: 3 },
            seq: { type: 'uint64', id: 4 },
            fileName: { type: 'string', id: 5 },
            fileType: { type: 'string', id: 6 },
            md5: { type: 'string', id: 7 },
            description: { type: 'string', id: 8 },
          },
        },
        Metric: {
          oneofs: {
            value: { oneof: [...VALUE_FIELDS, 'bytesValue', 'datasetValue', 'templateValue'] },
          },
          fields: {
            name: { type: 'string', id: 1 },
            alias: { type: 'uint64', id: 2 },
            timestamp: { type: 'uint64', id: 3 },
            datatype: { type: 'uint32', id: 4 },
            isHistorical: { type: 'bool', id: 5 },
            isTransient: { type: 'bool', id: 6 },
            isNull: { type: 'bool', id: 7 },
            metadata: { type: 'MetaData', id: 8 },
            properties: { type: 'PropertySet', id: 9 },
            ...scalarValue(10),
            bytesValue: { type: 'bytes', id: 16 },
            datasetValue: { type: 'DataSet', id: 17 },
            templateValue: { type: 'Template', id: 18 },
          },
        },
      },
    },
  },
};

/** The Sparkplug data types by number (Sparkplug 3.0, "Datatypes"). */
export const DATATYPES: Readonly<Record<number, string>> = {
  1: 'Int8',
  2: 'Int16',
  3: 'Int32',
  4: 'Int64',
  5: 'UInt8',
  6: 'UInt16',
  7: 'UInt32',
  8: 'UInt64',
  9: 'Float',
  10: 'Double',
  11: 'Boolean',
  12: 'String',
  13: 'DateTime',
  14: 'Text',
  15: 'UUID',
  16: 'DataSet',
  17: 'Bytes',
  18: 'File',
  19: 'Template',
  20: 'PropertySet',
  21: 'PropertySetList',
  22: 'Int8Array',
  23: 'Int16Array',
  24: 'Int32Array',
  25: 'Int64Array',
  26: 'UInt8Array',
  27: 'UInt16Array',
  28: 'UInt32Array',
  29: 'UInt64Array',
  30: 'FloatArray',
  31: 'DoubleArray',
  32: 'BooleanArray',
  33: 'StringArray',
  34: 'DateTimeArray',
};

/**
 * An int_value (a uint32 on the wire) as its data type reads it: Int8, Int16 and Int32 (1, 2, 3)
 * signed, every other type as the unsigned number.
 */
export function intOfType(unsigned: number, datatype: number): number {
  const v = unsigned >>> 0;
  if (datatype === 1) return (v << 24) >> 24;
  if (datatype === 2) return (v << 16) >> 16;
  if (datatype === 3) return v | 0;
  return v;
}
