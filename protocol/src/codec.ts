// Envelope <-> bytes. The schema is loaded from aip.proto at runtime with
// protobufjs (no generated code to keep in sync), and protobufjs objects are
// mapped to the tagged `Body` union of messages.ts: longs as numbers, enums
// as their names, every field present (proto3 defaults filled in, nested
// messages included).
import protobuf from 'protobufjs';
import { ProtocolError } from './errors.js';
import type { Body, BodyType, Envelope } from './messages.js';
import { resolveProtoPath } from './proto-path.js';

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

interface Schema {
  envelope: protobuf.Type;
  bodyTypes: ReadonlySet<string>;
}

let schema: Schema | undefined;

/** Set by bundlers (esbuild `define`) to the text of aip.proto; undefined otherwise. */
declare const __ORRERY_AIP_PROTO__: string | undefined;

function loadSchema(): Schema {
  if (schema) return schema;
  // A bundle (device-agent's single-file build) carries aip.proto's text inline.
  const root =
    typeof __ORRERY_AIP_PROTO__ === 'string'
      ? protobuf.parse(__ORRERY_AIP_PROTO__).root
      : protobuf.loadSync(resolveProtoPath());
  root.resolveAll();
  const envelope = root.lookupType('orrery.aip.v1.Envelope');
  const oneof = envelope.oneofs?.body;
  if (!oneof) throw new Error('aip.proto: Envelope has no oneof body');
  schema = { envelope, bodyTypes: new Set(oneof.oneof) };
  return schema;
}

/** Names of the oneof `body` members, in camelCase (as in `BodyType`). */
export function envelopeBodyTypes(): ReadonlySet<string> {
  return loadSchema().bodyTypes;
}

/** Message-typed, singular fields of each type: filled with defaults on decode. */
const nestedFieldsCache = new Map<protobuf.Type, protobuf.Field[]>();

function nestedFields(type: protobuf.Type): protobuf.Field[] {
  let fields = nestedFieldsCache.get(type);
  if (!fields) {
    // `optional` message fields keep their presence: absent stays absent.
    fields = type.fieldsArray.filter(
      (f) => !f.repeated && !f.map && f.resolvedType instanceof protobuf.Type && !f.options?.proto3_optional,
    );
    nestedFieldsCache.set(type, fields);
  }
  return fields;
}

function fillDefaults(type: protobuf.Type, obj: Record<string, unknown>): void {
  // The synthetic oneof of an `optional` field (`_name`) is not part of our shapes.
  for (const o of type.oneofsArray) if (o.name.startsWith('_')) delete obj[o.name];
  for (const field of nestedFields(type)) {
    const sub = field.resolvedType as protobuf.Type;
    const value = obj[field.name];
    if (value === null || value === undefined) {
      obj[field.name] = sub.toObject(sub.create(), TO_OBJECT);
      fillDefaults(sub, obj[field.name] as Record<string, unknown>);
    } else {
      fillDefaults(sub, value as Record<string, unknown>);
    }
  }
}

export function encodeEnvelope(env: Envelope): Uint8Array {
  const { envelope, bodyTypes } = loadSchema();
  const type: string = env.body.type;
  if (!bodyTypes.has(type)) {
    throw new ProtocolError('AIP_UNKNOWN_MESSAGE', `cannot encode unknown body type "${type}"`);
  }
  const message = envelope.fromObject({
    seq: env.seq,
    ack: env.ack,
    sentAtMs: env.sentAtMs,
    [type]: env.body.value,
  });
  return envelope.encode(message).finish();
}

/**
 * Decodes one frame. Throws ProtocolError: AIP_FRAME_TOO_LARGE above
 * maxBytes, AIP_BAD_FRAME when the bytes are not an Envelope,
 * AIP_UNKNOWN_MESSAGE when the Envelope carries no body this version knows.
 */
export function decodeEnvelope(bytes: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): Envelope {
  if (bytes.byteLength > maxBytes) {
    throw new ProtocolError(
      'AIP_FRAME_TOO_LARGE',
      `frame of ${bytes.byteLength} bytes exceeds the limit of ${maxBytes}`,
    );
  }
  const { envelope } = loadSchema();
  let obj: Record<string, unknown>;
  try {
    obj = envelope.toObject(envelope.decode(bytes), TO_OBJECT);
  } catch (err) {
    throw new ProtocolError('AIP_BAD_FRAME', `undecodable frame: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const type = obj.body;
  if (typeof type !== 'string') {
    throw new ProtocolError('AIP_UNKNOWN_MESSAGE', 'envelope carries no known message body');
  }
  const field = envelope.fields[type];
  const value = obj[type] as Record<string, unknown>;
  if (field?.resolvedType instanceof protobuf.Type) fillDefaults(field.resolvedType, value);
  return {
    seq: obj.seq as number,
    ack: obj.ack as number,
    sentAtMs: obj.sentAtMs as number,
    body: { type: type as BodyType, value } as Body,
  };
}
