import type {
  FilterChain,
  Gateway,
  GatewayServer,
  Listener,
  Route,
  RouteConfiguration,
  Secret,
  TlsProtocolVersion,
  TlsVersion,
  VirtualHost,
  VirtualService,
} from '@minimesh/api'
import { hostSpecificity, hostsIntersect, resolveHost } from '../registry/hosts.ts'
import type { PushContext } from './context.ts'
import { type CredentialResult, resolveCredential } from './credentials.ts'
import { gatewayRouteName, namespacedName, nsOf, wildcardListenerName } from './names.ts'
import { virtualServiceRoutes } from './route.ts'

/** A Gateway server host (`host`, or `ns/host` with ns `.`, `*` or a name): the host VirtualServices of `vsNs` may use. */
function serverHost(entry: string, gateway: Gateway, vsNs: string): string | undefined {
  const slash = entry.indexOf('/')
  if (slash < 0) return entry
  const ns = entry.slice(0, slash)
  const host = entry.slice(slash + 1)
  if (ns === '*' || ns === vsNs || (ns === '.' && nsOf(gateway) === vsNs)) return host
  return undefined
}

/** The host part of a server host entry (`ns/host` → `host`). */
const hostPart = (entry: string) => entry.slice(entry.indexOf('/') + 1)

interface ServerRef {
  gateway: Gateway
  server: GatewayServer
  /** Index in the Gateway's servers (names, messages). */
  index: number
}

/** The 301 to https every request of an httpsRedirect server's hosts gets (Envoy's require_tls: ALL). */
const HTTPS_REDIRECT: Route = {
  name: 'https-redirect',
  match: { path: { prefix: '/' } },
  redirect: { scheme: 'https', code: 301 },
}

/**
 * The virtual hosts of a set of servers that share one route configuration: a virtual host per
 * host a VirtualService listing the Gateway shares with a server; several VirtualServices for one
 * host merge, oldest first (Istio does the same for gateways). Hosts of an httpsRedirect server
 * only redirect, and have a virtual host even when no VirtualService names them.
 */
function virtualHosts(
  ctx: PushContext,
  servers: readonly ServerRef[],
  port: number,
  clusters: ReadonlySet<string>,
): VirtualHost[] {
  const vhosts = new Map<string, { routes: Route[]; seen: Set<VirtualService>; redirect: boolean }>()
  for (const { gateway, server } of servers) {
    const redirect = server.tls?.httpsRedirect === true
    const scope = {
      gateway: namespacedName(gateway.metadata),
      port,
      clusters,
      registry: ctx.snapshot.registry,
    }
    for (const vs of ctx.gatewayVirtualServices(gateway)) {
      let vsRoutes: Route[] | undefined
      for (const h of vs.spec.hosts ?? []) {
        const vsHost = resolveHost(h, nsOf(vs))
        for (const entry of server.hosts) {
          const sh = serverHost(entry, gateway, nsOf(vs))
          const host = sh === undefined ? undefined : hostsIntersect(vsHost, sh)
          if (host === undefined) continue
          const vh = vhosts.get(host) ?? { routes: [], seen: new Set(), redirect: false }
          vhosts.set(host, vh)
          if (redirect) vh.redirect = true
          if (vh.seen.has(vs)) continue
          vh.seen.add(vs)
          vsRoutes ??= virtualServiceRoutes(vs, scope)
          vh.routes.push(...vsRoutes)
        }
      }
    }
    if (redirect)
      for (const entry of server.hosts) {
        const host = hostPart(entry)
        const vh = vhosts.get(host) ?? { routes: [], seen: new Set(), redirect: true }
        vh.redirect = true
        vhosts.set(host, vh)
      }
  }
  return [...vhosts.entries()]
    .sort(([a], [b]) => hostSpecificity(b) - hostSpecificity(a) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([host, vh]) => ({
      name: `${host}:${port}`,
      domains: host === '*' ? ['*'] : [host, `${host}:${port}`],
      routes: vh.redirect ? [HTTPS_REDIRECT] : vh.routes,
    }))
}

const NODE_TLS_VERSION: Record<TlsProtocolVersion, TlsVersion | undefined> = {
  TLS_AUTO: undefined,
  TLSV1_0: 'TLSv1',
  TLSV1_1: 'TLSv1.1',
  TLSV1_2: 'TLSv1.2',
  TLSV1_3: 'TLSv1.3',
}

/**
 * Route configuration (and filter chain) name of an HTTPS server, Istio's:
 * `https.<port>.<port name>.<gateway>.<namespace>` (the server's index when its port has no name).
 */
function httpsRouteName(port: number, ref: ServerRef): string {
  const portName = ref.server.port.name ?? `server-${ref.index}`
  return `https.${port}.${portName}.${ref.gateway.metadata.name}.${nsOf(ref.gateway)}`
}

/**
 * A router's listeners, routes and secrets: for every server port of the Gateways selecting it, a
 * listener `0.0.0.0_<port>`. Plaintext (HTTP, HTTP2) servers of a port share one filter chain and
 * the RouteConfiguration `http.<port>`. Each HTTPS server gets its own filter chain, matched by the
 * SNI names of its hosts, terminating TLS with the certificate of its credentialName Secret (looked
 * up in the router's own namespace, as Istio does), and its own RouteConfiguration. A server whose
 * Secret is missing or unusable is left out and reported in `ctx.warnings`; the rest serve.
 */
export function gatewayConfig(
  ctx: PushContext,
  gateways: readonly Gateway[],
  clusters: ReadonlySet<string>,
  proxyNamespace = 'default',
): { listeners: Listener[]; routes: RouteConfiguration[]; secrets: Secret[] } {
  const byPort = new Map<number, ServerRef[]>()
  for (const gw of gateways)
    gw.spec.servers.forEach((server, index) => {
      if (server.port.protocol === 'TCP' || server.port.protocol === 'TLS') return
      const list = byPort.get(server.port.number) ?? []
      list.push({ gateway: gw, server, index })
      byPort.set(server.port.number, list)
    })
  const listeners: Listener[] = []
  const routes: RouteConfiguration[] = []
  const secrets = new Map<string, Secret>()
  const warn = (ref: ServerRef, what: string) =>
    ctx.warnings.set(
      `gateway/${namespacedName(ref.gateway.metadata)}/servers[${ref.index}]/${proxyNamespace}`,
      `Gateway ${namespacedName(ref.gateway.metadata)} spec.servers[${ref.index}] (port ${ref.server.port.number}): ${what}`,
    )
  for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
    const refs = byPort.get(port)!
    const tlsRefs = refs.filter((r) => r.server.port.protocol === 'HTTPS')
    const plain = refs.filter((r) => r.server.port.protocol !== 'HTTPS')
    const chains: FilterChain[] = []
    if (tlsRefs.length > 0) {
      for (const r of plain)
        warn(r, `left out: port ${port} also has HTTPS servers, and one port cannot serve both`)
      const claimed = new Set<string>()
      for (const ref of tlsRefs) {
        const tls = ref.server.tls!
        const mutual = tls.mode === 'MUTUAL'
        const cred = ctx.memo<CredentialResult>(
          `credential/${proxyNamespace}/${tls.credentialName}/${mutual}`,
          () => resolveCredential(ctx.snapshot.secrets, proxyNamespace, tls.credentialName ?? '', mutual),
        )
        if ('problem' in cred) {
          warn(ref, `left out until its certificate is usable: ${cred.problem}`)
          continue
        }
        // SNI names: the server's hosts; `*` takes any (and a client without SNI).
        const hosts = [...new Set(ref.server.hosts.map(hostPart))]
        const names = hosts.includes('*') ? ['*'] : hosts
        const free = names.filter((n) => !claimed.has(n))
        if (free.length === 0) {
          warn(ref, `left out: an earlier HTTPS server on port ${port} already takes ${names.join(', ')}`)
          continue
        }
        for (const n of free) claimed.add(n)
        secrets.set(cred.secret.name, cred.secret)
        let name = httpsRouteName(port, ref)
        if (chains.some((c) => c.name === name)) name = `${name}.${ref.index}`
        const minVersion = tls.minProtocolVersion && NODE_TLS_VERSION[tls.minProtocolVersion]
        const maxVersion = tls.maxProtocolVersion && NODE_TLS_VERSION[tls.maxProtocolVersion]
        chains.push({
          name,
          ...(free.includes('*') ? {} : { match: { serverNames: free } }),
          tls: {
            mode: mutual ? 'MUTUAL' : 'SIMPLE',
            secretName: cred.secret.name,
            requireClientCertificate: mutual,
            ...(minVersion ? { minVersion } : {}),
            ...(maxVersion ? { maxVersion } : {}),
            ...(mutual && tls.subjectAltNames ? { subjectAltNames: tls.subjectAltNames } : {}),
          },
          http: { routeConfigName: name },
        })
        routes.push({ name, virtualHosts: virtualHosts(ctx, [ref], port, clusters) })
      }
    } else {
      const name = gatewayRouteName(port)
      chains.push({ name: wildcardListenerName(port), http: { routeConfigName: name } })
      routes.push({ name, virtualHosts: virtualHosts(ctx, plain, port, clusters) })
    }
    if (chains.length === 0) continue
    listeners.push({
      name: wildcardListenerName(port),
      trafficDirection: 'GATEWAY',
      address: '0.0.0.0',
      port,
      bindToPort: true,
      filterChains: chains,
    })
  }
  return {
    listeners,
    routes,
    secrets: [...secrets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  }
}
