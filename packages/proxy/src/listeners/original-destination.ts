// The default original-destination lookup: SO_ORIGINAL_DST through the native addon. A
// connection that was not redirected (or a machine without the addon built) falls back to the
// socket's own local address, which is where such a connection was going anyway.
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import { originalDst } from '../native/original-dst.ts'
import { type Destination, type OriginalDestinationFn, plainAddress } from './conn.ts'

export function defaultOriginalDestination(log: Logger): OriginalDestinationFn {
  let warned = false
  return (socket: Socket): Destination => {
    try {
      const d = originalDst(socket)
      return { address: d.address, port: d.port }
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'MESH_ERR_PROXY_NATIVE_MISSING' && !warned) {
        warned = true
        log.warn({ err }, 'SO_ORIGINAL_DST addon missing: captured connections use their local address')
      }
      return { address: plainAddress(socket.localAddress), port: socket.localPort ?? 0 }
    }
  }
}
