import { createRequire } from 'node:module'

export const FRAMED = Symbol.for('minimesh.xds.framed')

/** A response serialized and framed once (gRPC's 5-byte prefix + message), written as is to many streams. */
export interface FramedMessage {
  readonly [FRAMED]: true
  /** Flag byte, 4-byte big-endian length, message. */
  readonly frame: Buffer
}

let installed: boolean | undefined

/**
 * Lets grpc-js write a FramedMessage without serializing and copying it again. grpc-js frames
 * every message into a fresh buffer (`serializeMessage`); for one route configuration of 500 KB
 * sent to 1,000 proxies that is 500 MB of copies and garbage per change. This wraps that one
 * method of the pinned grpc-js (catalog: 1.14.x) to pass FramedMessages through; anything else is
 * serialized as before. Returns false (and changes nothing) if grpc-js no longer has that method;
 * callers then write plain Buffers, which the service's serializer passes through.
 */
export function installZeroCopyFraming(): boolean {
  if (installed !== undefined) return installed
  installed = false
  try {
    const require = createRequire(import.meta.url)
    const mod = require('@grpc/grpc-js/build/src/server-interceptors.js') as {
      BaseServerInterceptingCall?: { prototype: { serializeMessage?: (value: unknown) => Buffer } }
    }
    const proto = mod.BaseServerInterceptingCall?.prototype
    const original = proto?.serializeMessage
    if (!proto || typeof original !== 'function') return installed
    proto.serializeMessage = function (this: unknown, value: unknown): Buffer {
      if (typeof value === 'object' && value !== null && (value as FramedMessage)[FRAMED] === true)
        return (value as FramedMessage).frame
      return original.call(this, value)
    }
    installed = true
  } catch {
    installed = false
  }
  return installed
}
