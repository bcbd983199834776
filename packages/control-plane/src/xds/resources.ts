import { createHash } from 'node:crypto'
import { constants, gzipSync } from 'node:zlib'
import { resourceName, type TypeUrl } from '@minimesh/api'
import type { ResourceGroup } from '../translate/index.ts'
import { encodeResourceEntry, encodeResponseFrame } from './encode.ts'
import { FRAMED, type FramedMessage } from './framing.ts'

interface GroupInfo {
  hash: string
  /** Each resource encoded once, as a DiscoveryResponse `resources` entry. */
  entries: Buffer[]
}

const groups = new WeakMap<ResourceGroup, GroupInfo>()

/** Hash and wire form of a group, computed once per group object (groups are shared between proxies). */
function groupInfo(type: TypeUrl, group: ResourceGroup): GroupInfo {
  let info = groups.get(group)
  if (!info) {
    const h = createHash('sha1')
    const entries: Buffer[] = []
    for (const item of group.items) {
      const name = resourceName(type, item as Record<string, unknown>)
      const value = Buffer.from(JSON.stringify(item))
      h.update(name).update('\0').update(value).update('\0')
      entries.push(encodeResourceEntry(type, name, value))
    }
    info = { hash: h.digest('hex'), entries }
    groups.set(group, info)
  }
  return info
}

/** The hash of one proxy's resources of one type (its state of the world). */
export function typeHash(type: TypeUrl, list: readonly ResourceGroup[]): string {
  if (list.length === 1) return groupInfo(type, list[0]!).hash
  const h = createHash('sha1')
  for (const g of list) h.update(groupInfo(type, g).hash)
  return h.digest('hex')
}

/** A serialized DiscoveryResponse, ready to write to any stream that needs exactly this content. */
export interface PreparedResponse {
  typeUrl: TypeUrl
  version: string
  nonce: string
  hash: string
  resources: number
  bytes: number
  /** The serialized message (a view into `framed.frame`). */
  buffer: Buffer
  /** The same with gRPC's frame prefix, written as is when zero-copy framing is installed. */
  framed: FramedMessage
  /** The frame for a stream that announced `grpc-encoding: gzip` (compressed once, on first use). */
  gzipped(): FramedMessage
}

/** Messages smaller than this go out uncompressed (flag 0) even on gzip streams. */
export const GZIP_MIN_BYTES = 1024

/**
 * gRPC's compressed frame (flag 1, length, gzip of the message) of `frame`, or `frame` itself when
 * it is small. Level 1: the JSON is repetitive enough that higher levels buy little for their CPU.
 */
export function gzipFrame(frame: Buffer): Buffer {
  if (frame.length - 5 < GZIP_MIN_BYTES) return frame
  const body = gzipSync(frame.subarray(5), { level: 1, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY })
  const out = Buffer.allocUnsafe(body.length + 5)
  out.writeUInt8(1, 0)
  out.writeUInt32BE(body.length, 1)
  body.copy(out, 5)
  return out
}

let nonceCounter = 0

/**
 * Prepared responses of one snapshot, by type and content hash: proxies that get the same
 * content (every sidecar of a namespace, for most types) share one serialized response. Bounded
 * (least recently used go first) so that per-proxy content does not pile up.
 */
export class ResponseCache {
  private readonly entries = new Map<string, PreparedResponse>()
  private readonly snapshotVersion: number
  private readonly controlPlaneId: string
  private readonly maxBytes: number
  private bytes = 0

  constructor(snapshotVersion: number, controlPlaneId: string, options: { maxBytes?: number } = {}) {
    this.snapshotVersion = snapshotVersion
    this.controlPlaneId = controlPlaneId
    this.maxBytes = options.maxBytes ?? 32 * 2 ** 20
  }

  /** The response for this content; `avoidNonce` forces a new one (a stream must not see a nonce twice). */
  get(type: TypeUrl, list: readonly ResourceGroup[], hash: string, avoidNonce?: string): PreparedResponse {
    const key = `${type}|${hash}`
    const hit = this.entries.get(key)
    if (hit && hit.nonce !== avoidNonce) {
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit
    }
    const entries = list.map((g) => groupInfo(type, g).entries)
    const version = `${this.snapshotVersion}-${hash.slice(0, 8)}`
    const nonce = (++nonceCounter).toString(36)
    const frame = encodeResponseFrame(
      { versionInfo: version, typeUrl: type, nonce, controlPlaneId: this.controlPlaneId },
      entries,
    )
    let gzipped: FramedMessage | undefined
    const prepared: PreparedResponse = {
      typeUrl: type,
      version,
      nonce,
      hash,
      resources: entries.reduce((n, e) => n + e.length, 0),
      bytes: frame.length,
      buffer: frame.subarray(5),
      framed: { [FRAMED]: true, frame },
      gzipped: () => {
        gzipped ??= { [FRAMED]: true, frame: gzipFrame(frame) }
        return gzipped
      },
    }
    if (hit) this.forget(key, hit)
    this.entries.set(key, prepared)
    this.bytes += prepared.bytes
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes || k === key) break
      this.forget(k, e)
    }
    return prepared
  }

  private forget(key: string, entry: PreparedResponse): void {
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }
}
