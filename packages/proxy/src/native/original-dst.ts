// The proxy's view of SO_ORIGINAL_DST: where an accepted, iptables-redirected TCP connection was
// really going. Node has no API for it, so a tiny N-API addon (native/original_dst.cc, built by
// `make native` into build/Release/original_dst.node) asks the kernel.
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { ProxyNativeError } from '../errors.ts'

/** The destination a connection had before NAT (REDIRECT/DNAT) rewrote it. */
export interface OriginalDst {
  address: string
  port: number
  family: 4 | 6
}

interface OriginalDstAddon {
  getOriginalDst(fd: number): OriginalDst
}

export { ProxyNativeError } from '../errors.ts'

/** Where the built addon lives: <package>/build/Release, from src/native/ and from dist/native/. */
export const ORIGINAL_DST_ADDON_PATH = fileURLToPath(
  new URL('../../build/Release/original_dst.node', import.meta.url),
)

let addon: OriginalDstAddon | undefined

/** Loads the addon once; throws MESH_ERR_PROXY_NATIVE_MISSING (run `make native`) if it is not built. */
export function loadOriginalDstAddon(path: string = ORIGINAL_DST_ADDON_PATH): OriginalDstAddon {
  if (addon && path === ORIGINAL_DST_ADDON_PATH) return addon
  let loaded: OriginalDstAddon
  try {
    loaded = createRequire(import.meta.url)(path) as OriginalDstAddon
  } catch (cause) {
    throw new ProxyNativeError(
      'MESH_ERR_PROXY_NATIVE_MISSING',
      `the SO_ORIGINAL_DST addon is not built (${path}): run \`make native\` ` +
        '(or `pnpm --filter @minimesh/proxy run build:native`)',
      { cause },
    )
  }
  if (path === ORIGINAL_DST_ADDON_PATH) addon = loaded
  return loaded
}

/** The file descriptor under a connected net.Socket (Linux TCP handles expose it as `_handle.fd`). */
function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd
  if (typeof fd !== 'number' || fd < 0) {
    throw new ProxyNativeError(
      'MESH_ERR_PROXY_NO_FD',
      'socket has no file descriptor (not connected, already closed, or not a TCP socket)',
    )
  }
  return fd
}

/**
 * The original destination of an accepted connection that iptables redirected to this listener
 * (virtualOutbound or virtualInbound). Throws MESH_ERR_PROXY_ORIGINAL_DST when the kernel has none
 * (e.g. `cause.code === 'ENOENT'`: conntrack does not track this connection).
 */
export function originalDst(socket: Socket): OriginalDst {
  const fd = socketFd(socket)
  const native = loadOriginalDstAddon()
  try {
    return native.getOriginalDst(fd)
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    throw new ProxyNativeError('MESH_ERR_PROXY_ORIGINAL_DST', `original destination unknown: ${detail}`, {
      cause,
    })
  }
}
