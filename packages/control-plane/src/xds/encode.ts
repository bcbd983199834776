// Protobuf wire encoding of minimesh.discovery.v1.DiscoveryResponse, by hand, so that each
// resource is encoded once (and shared by every response and proxy that carries it) and a
// response is assembled by copying those bytes into one buffer that already has gRPC's 5-byte
// frame prefix. Checked against proto-loader's decoder in encode.test.ts.

const LEN = 2 // wire type: length-delimited

function varintSize(n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80
    n = Math.floor(n / 128)
  }
  buf[at++] = n
  return at
}

/** Size of a length-delimited field (tag, length, bytes); proto3 leaves empty fields out. */
function fieldSize(field: number, bytes: number): number {
  return bytes === 0 ? 0 : varintSize(field << 3) + varintSize(bytes) + bytes
}

function writeField(buf: Buffer, at: number, field: number, data: Buffer | string): number {
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length
  if (bytes === 0) return at
  at = writeVarint(buf, at, (field << 3) | LEN)
  at = writeVarint(buf, at, bytes)
  if (typeof data === 'string') at += buf.write(data, at, 'utf8')
  else at += data.copy(buf, at)
  return at
}

/**
 * One Resource (type_url 1, name 2, version 3, value 4) already wrapped as field 2 of a
 * DiscoveryResponse, ready to be concatenated into any response.
 */
export function encodeResourceEntry(typeUrl: string, name: string, value: Buffer): Buffer {
  const inner =
    fieldSize(1, Buffer.byteLength(typeUrl)) +
    fieldSize(2, Buffer.byteLength(name)) +
    fieldSize(4, value.length)
  const out = Buffer.allocUnsafe(varintSize((2 << 3) | LEN) + varintSize(inner) + inner)
  let at = writeVarint(out, 0, (2 << 3) | LEN)
  at = writeVarint(out, at, inner)
  at = writeField(out, at, 1, typeUrl)
  at = writeField(out, at, 2, name)
  writeField(out, at, 4, value)
  return out
}

export interface ResponseFields {
  versionInfo: string
  typeUrl: string
  nonce: string
  controlPlaneId: string
  /** An incremental response (field 7), with the names of removed resources (field 8). */
  incremental?: boolean
  removed?: readonly string[]
}

/**
 * A DiscoveryResponse (version_info 1, resources 2, type_url 4, nonce 5, control_plane_id 6,
 * incremental 7, removed_resources 8) as a gRPC frame: flag byte 0, 4-byte big-endian length,
 * message. The message is `frame.subarray(5)`.
 */
export function encodeResponseFrame(fields: ResponseFields, entries: readonly (readonly Buffer[])[]): Buffer {
  const removed = fields.removed ?? []
  let size =
    fieldSize(1, Buffer.byteLength(fields.versionInfo)) +
    fieldSize(4, Buffer.byteLength(fields.typeUrl)) +
    fieldSize(5, Buffer.byteLength(fields.nonce)) +
    fieldSize(6, Buffer.byteLength(fields.controlPlaneId)) +
    (fields.incremental ? 2 : 0)
  // A repeated string is one field per element, empty strings included.
  for (const name of removed) {
    const n = Buffer.byteLength(name)
    size += varintSize(8 << 3) + varintSize(n) + n
  }
  for (const list of entries) for (const e of list) size += e.length
  const out = Buffer.allocUnsafe(size + 5)
  out.writeUInt8(0, 0)
  out.writeUInt32BE(size, 1)
  let at = writeField(out, 5, 1, fields.versionInfo)
  for (const list of entries) for (const e of list) at += e.copy(out, at)
  at = writeField(out, at, 4, fields.typeUrl)
  at = writeField(out, at, 5, fields.nonce)
  at = writeField(out, at, 6, fields.controlPlaneId)
  if (fields.incremental) {
    out[at++] = 7 << 3 // varint
    out[at++] = 1
  }
  for (const name of removed) {
    const n = Buffer.byteLength(name)
    at = writeVarint(out, at, (8 << 3) | LEN)
    at = writeVarint(out, at, n)
    at += out.write(name, at, 'utf8')
  }
  return out
}
