import { formatFinding } from '@minimesh/api'
import type { ConfigSnapshot } from '../snapshot.ts'
import { pushContextOf } from '../translate/context.ts'
import { flatten, generate } from '../translate/index.ts'
import type { DiscoveryServer } from '../xds/server.ts'
import { shortType } from '../xds/server.ts'

/** /debug/syncz: every connected proxy, per type: versions sent and acked, in flight, last NACK. */
export function syncz(discovery: DiscoveryServer) {
  return [...discovery.connections.values()]
    .sort((a, b) => (a.proxy.id < b.proxy.id ? -1 : 1))
    .map((c) => ({
      proxy: c.proxy.id,
      type: c.proxy.type,
      namespace: c.proxy.namespace,
      peer: c.peer,
      connectedAt: new Date(c.connectedAt).toISOString(),
      snapshot: c.snapshotVersion ?? null,
      types: Object.fromEntries(
        [...c.types.entries()].map(([type, s]) => [
          shortType(type),
          {
            sent: s.sentVersion ?? null,
            acked: s.ackedVersion ?? null,
            synced: s.sentVersion !== undefined && s.sentVersion === s.ackedVersion,
            inflight: s.inflight,
            pending: s.pending,
            pushes: s.pushes,
            sentAt: s.sentAt ? new Date(s.sentAt).toISOString() : null,
            ackedAt: s.ackedAt ? new Date(s.ackedAt).toISOString() : null,
            lastNack: s.lastNack
              ? {
                  version: s.lastNack.version,
                  message: s.lastNack.message,
                  at: new Date(s.lastNack.at).toISOString(),
                }
              : null,
          },
        ]),
      ),
    }))
}

/** /debug/configz: every object read, with what became of it and why. */
export function configz(snapshot: ConfigSnapshot | undefined, source: string, onlyRejected: boolean) {
  if (!snapshot) return { source, snapshot: null, objects: [], files: [] }
  return {
    source,
    snapshot: { version: snapshot.version, builtAt: new Date(snapshot.builtAt).toISOString() },
    rejected: snapshot.status.filter((s) => s.state === 'rejected').length,
    objects: snapshot.status
      .filter((s) => !onlyRejected || s.state === 'rejected')
      .map((s) => ({
        ...s,
        findings: s.findings.map((f) => ({ ...f, text: formatFinding(f) })),
      })),
    files: [...snapshot.originProblems.entries()].map(([origin, findings]) => ({
      origin,
      findings: findings.map((f) => ({ ...f, text: formatFinding(f) })),
    })),
  }
}

/** /debug/registryz: services with ports, protocols and endpoints. */
export function registryz(snapshot: ConfigSnapshot | undefined) {
  if (!snapshot) return []
  const reg = snapshot.registry
  return reg.services.map((s) => ({
    ...s,
    ports: s.ports.map((p) => ({ ...p, endpoints: reg.endpoints(s, p) })),
  }))
}

/** /debug/config_dump?proxy=ID: what meshd would send that proxy now. */
export function configDump(
  discovery: DiscoveryServer,
  snapshot: ConfigSnapshot | undefined,
  proxyId: string,
) {
  const conn = discovery.connections.get(proxyId)
  if (!conn || !snapshot) return undefined
  const ctx = pushContextOf(snapshot)
  const config = flatten(generate(ctx, conn.proxy))
  return {
    proxy: conn.proxy,
    snapshot: snapshot.version,
    ...config,
    // Private keys are never shown (Envoy's config_dump redacts them too).
    ...(config.secrets ? { secrets: config.secrets.map((s) => ({ ...s, privateKey: '[redacted]' })) } : {}),
    ...(ctx.warnings.size > 0 ? { warnings: Object.fromEntries(ctx.warnings) } : {}),
  }
}
