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
  /** The resources' names, in the same order. */
  names: string[]
}

const groups = new WeakMap<ResourceGroup, GroupInfo>()

/** Hash and wire form of a group, computed once per group object (groups are shared between proxies). */
function groupInfo(type: TypeUrl, group: ResourceGroup): GroupInfo {
  let info = groups.get(group)
  if (!info) {
    const h = createHash('sha1')
    const entries: Buffer[] = []
    const names: string[] = []
    for (const item of group.items) {
      const name = resourceName(type, item as Record<string, unknown>)
      const value = Buffer.from(JSON.stringify(item))
      h.update(name).update('\0').update(value).update('\0')
      entries.push(encodeResourceEntry(type, name, value))
      names.push(name)
    }
    info = { hash: h.digest('hex'), entries, names }
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
  /** Resources carried (for an incremental response, the added and changed ones). */
  resources: number
  /** An incremental response, with this many removed names. */
  incremental: boolean
  removed: number
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
    return this.cached(`${type}|${hash}`, avoidNonce, () =>
      this.prepare(
        type,
        hash,
        list.map((g) => groupInfo(type, g).entries),
      ),
    )
  }

  /**
   * The incremental response that takes a proxy from the state `from` (which it accepted) to
   * `to`: the resources that are new or whose bytes differ, and the names gone. Proxies moving
   * between the same two states (every sidecar of a namespace) share it.
   */
  delta(
    type: TypeUrl,
    from: { list: readonly ResourceGroup[]; hash: string },
    to: { list: readonly ResourceGroup[]; hash: string },
    avoidNonce?: string,
  ): PreparedResponse {
    return this.cached(`${type}|${from.hash}>${to.hash}`, avoidNonce, () => {
      const { changed, removed } = diffGroups(type, from.list, to.list)
      return this.prepare(type, to.hash, [changed], removed)
    })
  }

  private cached(
    key: string,
    avoidNonce: string | undefined,
    make: () => PreparedResponse,
  ): PreparedResponse {
    const hit = this.entries.get(key)
    if (hit && hit.nonce !== avoidNonce) {
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit
    }
    const prepared = make()
    if (hit) this.forget(key, hit)
    this.entries.set(key, prepared)
    this.bytes += prepared.bytes
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes || k === key) break
      this.forget(k, e)
    }
    return prepared
  }

  private prepare(
    type: TypeUrl,
    hash: string,
    entries: readonly (readonly Buffer[])[],
    removed?: readonly string[],
  ): PreparedResponse {
    const version = `${this.snapshotVersion}-${hash.slice(0, 8)}`
    const nonce = (++nonceCounter).toString(36)
    const incremental = removed !== undefined
    const frame = encodeResponseFrame(
      {
        versionInfo: version,
        typeUrl: type,
        nonce,
        controlPlaneId: this.controlPlaneId,
        incremental,
        removed,
      },
      entries,
    )
    let gzipped: FramedMessage | undefined
    return {
      typeUrl: type,
      version,
      nonce,
      hash,
      resources: entries.reduce((n, e) => n + e.length, 0),
      incremental,
      removed: removed?.length ?? 0,
      bytes: frame.length,
      buffer: frame.subarray(5),
      framed: { [FRAMED]: true, frame },
      gzipped: () => {
        gzipped ??= { [FRAMED]: true, frame: gzipFrame(frame) }
        return gzipped
      },
    }
  }

  private forget(key: string, entry: PreparedResponse): void {
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }
}

/**
 * What changed between two states of one type: the encoded entries of resources that are new or
 * differ, in `to`'s order, and the names only `from` has. A group whose content hash is on both
 * sides (the built-in clusters, an unchanged namespace's groups) is skipped whole; names are unique
 * within a type, so its resources are in no other group.
 */
function diffGroups(
  type: TypeUrl,
  from: readonly ResourceGroup[],
  to: readonly ResourceGroup[],
): { changed: Buffer[]; removed: string[] } {
  const fromInfos = from.map((g) => groupInfo(type, g))
  const toInfos = to.map((g) => groupInfo(type, g))
  const fromHashes = new Set(fromInfos.map((i) => i.hash))
  const toHashes = new Set(toInfos.map((i) => i.hash))
  const before = new Map<string, Buffer>()
  for (const info of fromInfos)
    if (!toHashes.has(info.hash)) for (const [i, n] of info.names.entries()) before.set(n, info.entries[i]!)
  const changed: Buffer[] = []
  const present = new Set<string>()
  for (const info of toInfos) {
    const unchanged = fromHashes.has(info.hash)
    for (const [i, n] of info.names.entries()) {
      present.add(n)
      if (unchanged) continue
      const entry = info.entries[i]!
      if (!before.get(n)?.equals(entry)) changed.push(entry)
    }
  }
  const removed: string[] = []
  for (const info of fromInfos) for (const n of info.names) if (!present.has(n)) removed.push(n)
  return { changed, removed }
}
