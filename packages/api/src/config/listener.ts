import { array, boolean, type Infer, integer, object, optional, string } from '../schema/index.ts'
import { authorization } from './authorization.ts'
import { quotaRule } from './quota.ts'
import { downstreamTls } from './secret.ts'

/**
 * A filter chain: which connections it takes (by original destination port or address) and what
 * handles them: an HTTP connection manager (routes by `routeConfigName`, or straight to `cluster`)
 * or a TCP proxy to `cluster`.
 */
export const filterChain = object(
  {
    name: string(),
    match: optional(
      object({
        destinationPort: optional(integer({ min: 1, max: 65535 })),
        /** Original destination addresses or CIDRs. */
        prefixRanges: optional(array(string())),
        /**
         * Gateway TLS chains: the SNI names (`*.example.com` wildcards) the chain takes; a chain
         * naming the client's SNI beats one without names.
         */
        serverNames: optional(array(string())),
      }),
    ),
    http: optional(
      object(
        { routeConfigName: optional(string()), cluster: optional(string()) },
        { oneOf: ['routeConfigName', 'cluster'], oneOfRequired: true },
      ),
    ),
    tcp: optional(object({ cluster: string() })),
    /** Gateway chains: TLS terminated before the HTTP connection manager. */
    tls: optional(downstreamTls),
    /** Server-side quota checks (inbound chains). */
    quotas: optional(array(quotaRule)),
    /** AuthorizationPolicies of the workload (inbound chains), compiled. */
    authorization: optional(authorization),
    /**
     * Mesh mTLS on an inbound chain (the effective PeerAuthentication for the port): STRICT
     * terminates TLS and requires a client certificate from the mesh (plaintext is closed),
     * PERMISSIVE tells a TLS ClientHello from plaintext on the same port, DISABLE takes plaintext
     * only (TLS passes through to the app untouched). Absent: as DISABLE.
     */
    mtls: optional(object({ mode: string({ enum: ['STRICT', 'PERMISSIVE', 'DISABLE'] as const }) })),
  },
  { oneOf: ['http', 'tcp'], oneOfRequired: true },
)
export type FilterChain = Infer<typeof filterChain>

/**
 * A listener. Names follow Istio: `virtualOutbound` and `virtualInbound` (the capture ports, ports.ts),
 * `0.0.0.0_9080` (outbound HTTP for a port, reached through virtualOutbound: bindToPort false),
 * `198.19.0.12_3306` (outbound TCP for one service address), `0.0.0.0_8080` (gateway).
 */
export const listener = object({
  name: string(),
  trafficDirection: string({ enum: ['OUTBOUND', 'INBOUND', 'GATEWAY'] as const }),
  address: string(),
  port: integer({ min: 0, max: 65535 }),
  /** false: not a socket of its own; the virtual listener hands it connections by original destination. */
  bindToPort: boolean(),
  filterChains: array(filterChain, { uniqueBy: (c) => c.name, uniqueWhat: 'filter chain name' }),
  /** Chain used when none matches (virtual listeners: passthrough). */
  defaultFilterChain: optional(filterChain),
})
export type Listener = Infer<typeof listener>
