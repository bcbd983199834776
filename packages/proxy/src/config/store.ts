// The proxy's configuration: the last accepted resources of each type, and a compiled snapshot
// (route matchers built, clusters live) swapped atomically. A request reads `store.current` once
// and keeps that snapshot to its end, so a swap never disturbs requests in flight. Clusters whose
// definition did not change carry over with their pools and outlier state; replaced ones drain.
import { EventEmitter } from 'node:events'
import {
  assembleRouteConfigurations,
  type Cluster,
  type ClusterLoadAssignment,
  type Listener,
  type RouteConfiguration,
  resourceName,
  type Secret,
  TYPE_ORDER,
  TypeUrl,
  type VhdsVirtualHost,
} from '@minimesh/api/config'
import { ClusterRuntime, type ClusterStats, newClusterStats } from '../cluster/cluster.ts'
import { loadUpstreamTls, tlsFilesChanged, type UpstreamTls } from '../cluster/tls.ts'
import { ConfigError } from '../errors.ts'
import type { CertificateStore } from '../identity/certificates.ts'
import { checkSecret } from '../listeners/gateway-secrets.ts'
import type { SourceIdentity } from '../routing/match.ts'
import { type CompiledRouteConfig, compileRouteConfig, type VirtualHostCache } from '../routing/select.ts'
import { BUILTIN_CLUSTERS, type StaticConfig, validateResources } from './validate.ts'

export interface XdsSnapshot {
  /** Bumped on every accepted change. */
  readonly serial: number
  readonly listeners: ReadonlyMap<string, Listener>
  readonly routes: ReadonlyMap<string, CompiledRouteConfig>
  readonly clusters: ReadonlyMap<string, ClusterRuntime>
  /** Certificates gateway filter chains terminate TLS with, by Secret name. */
  readonly secrets: ReadonlyMap<string, Secret>
}

type Raw = {
  [TypeUrl.Listener]: Map<string, Listener>
  [TypeUrl.RouteConfiguration]: Map<string, RouteConfiguration>
  [TypeUrl.Cluster]: Map<string, Cluster>
  [TypeUrl.ClusterLoadAssignment]: Map<string, ClusterLoadAssignment>
  [TypeUrl.VirtualHost]: Map<string, VhdsVirtualHost>
  [TypeUrl.Secret]: Map<string, Secret>
}

/** An incremental response's extra: the names it removes (its resources are the added and changed ones). */
export interface Delta {
  removed: readonly string[]
}

export interface XdsConfigStoreEvents {
  /** A new snapshot is current (listeners may need binding or closing). */
  change: [XdsSnapshot]
}

export class XdsConfigStore extends EventEmitter<XdsConfigStoreEvents> {
  private readonly source: SourceIdentity
  private readonly raw: Raw = {
    [TypeUrl.Listener]: new Map(),
    [TypeUrl.RouteConfiguration]: new Map(),
    [TypeUrl.Cluster]: new Map(),
    [TypeUrl.ClusterLoadAssignment]: new Map(),
    [TypeUrl.VirtualHost]: new Map(),
    [TypeUrl.Secret]: new Map(),
  }
  /** Accepted version per type ('' before the first). */
  readonly versions: Record<TypeUrl, string> = {
    [TypeUrl.Listener]: '',
    [TypeUrl.RouteConfiguration]: '',
    [TypeUrl.Cluster]: '',
    [TypeUrl.ClusterLoadAssignment]: '',
    [TypeUrl.VirtualHost]: '',
    [TypeUrl.Secret]: '',
  }
  /** Compiled virtual hosts by their accepted object: an unchanged host is not compiled again. */
  private readonly compiledHosts: VirtualHostCache = new WeakMap()
  private readonly received = new Set<TypeUrl>()
  private clusters = new Map<string, ClusterRuntime>()
  /** Counters per cluster name, kept across cluster replacements. */
  readonly clusterStats = new Map<string, ClusterStats>()
  /** Clusters whose rotated TLS files were refused, with the reason last reported. */
  private readonly tlsFailures = new Map<string, string>()
  private routes = new Map<string, CompiledRouteConfig>()
  current: XdsSnapshot

  /** This workload's mesh certificate, for the clusters' mesh mTLS (none: always plaintext). */
  private readonly certs: CertificateStore | undefined

  constructor(source: SourceIdentity, certs?: CertificateStore) {
    super()
    this.source = source
    this.certs = certs
    for (const c of BUILTIN_CLUSTERS)
      this.clusters.set(c.name, new ClusterRuntime(c, this.statsFor(c.name), undefined, certs))
    this.current = {
      serial: 0,
      listeners: new Map(),
      routes: new Map(),
      clusters: new Map(this.clusters),
      secrets: new Map(),
    }
  }

  /**
   * Clusters and listeners have been accepted once (the proxy reports ready), as Envoy
   * initializes after CDS and LDS; routes and endpoints may follow (or be empty). Route
   * configurations whose virtual hosts come separately (vhds) wait for those too.
   */
  get ready(): boolean {
    const vhds = [...this.raw[TypeUrl.RouteConfiguration].values()].some((rc) => rc.vhds)
    return (
      this.received.has(TypeUrl.Cluster) &&
      this.received.has(TypeUrl.Listener) &&
      (!vhds || this.received.has(TypeUrl.VirtualHost))
    )
  }

  /**
   * Accepts the resources of one type, or throws ConfigError and changes nothing: the full set
   * (state of the world), or with `delta` the added and changed ones, the others kept but those
   * named in `delta.removed`.
   */
  apply(typeUrl: TypeUrl, resources: readonly unknown[], version: string, delta?: Delta): void {
    const prev = (this.raw as Record<TypeUrl, Map<string, unknown>>)[typeUrl]
    const kept = new Set(delta ? prev.keys() : [])
    for (const n of delta?.removed ?? []) kept.delete(n)
    const clusterNames = new Set(
      typeUrl === TypeUrl.Cluster
        ? [...kept, ...(resources as Cluster[]).map((c) => c?.name)]
        : this.raw[TypeUrl.Cluster].keys(),
    )
    validateResources(typeUrl, resources, clusterNames)
    // A certificate that does not parse, or a key that is not its certificate's, is refused now.
    if (typeUrl === TypeUrl.Secret) for (const r of resources as Secret[]) checkSecret(r)
    if (typeUrl === TypeUrl.Listener) this.checkSecretNames(resources as Listener[])
    const next = new Map<string, unknown>()
    for (const n of kept) next.set(n, prev.get(n))
    for (const r of resources) next.set(resourceName(typeUrl, r as Record<string, unknown>), r)
    // Read the TLS files of new and changed clusters before committing: a missing one rejects all.
    const tls = typeUrl === TypeUrl.Cluster ? this.loadTls(next as Map<string, Cluster>) : undefined
    // Compile before committing, so a compile failure (a regex the schema let through) leaves all as it was.
    let routes = this.routes
    if (typeUrl === TypeUrl.RouteConfiguration || typeUrl === TypeUrl.VirtualHost) {
      routes = this.compileRoutes(
        (typeUrl === TypeUrl.RouteConfiguration ? next : this.raw[TypeUrl.RouteConfiguration]) as Map<
          string,
          RouteConfiguration
        >,
        (typeUrl === TypeUrl.VirtualHost ? next : this.raw[TypeUrl.VirtualHost]) as Map<
          string,
          VhdsVirtualHost
        >,
      )
    }
    ;(this.raw as Record<TypeUrl, Map<string, unknown>>)[typeUrl] = next
    this.versions[typeUrl] = version
    this.received.add(typeUrl)
    this.routes = routes
    if (tls) this.swapClusters(tls)
    if (typeUrl === TypeUrl.ClusterLoadAssignment) {
      for (const rt of this.clusters.values())
        rt.applyAssignment(this.raw[TypeUrl.ClusterLoadAssignment].get(rt.name))
    }
    this.publish()
  }

  /** Every gateway chain's TLS must name a Secret this proxy has (they are applied first). */
  private checkSecretNames(listeners: readonly Listener[]): void {
    for (const l of listeners)
      l.filterChains.forEach((fc, i) => {
        const name = fc.tls?.secretName
        if (name !== undefined && !this.raw[TypeUrl.Secret].has(name))
          throw new ConfigError(
            l.name,
            `Listener ${l.name}: filterChains[${i}].tls.secretName: unknown Secret ${name}`,
          )
      })
  }

  private compileRoutes(
    configs: ReadonlyMap<string, RouteConfiguration>,
    hosts: ReadonlyMap<string, VhdsVirtualHost>,
  ): Map<string, CompiledRouteConfig> {
    const routes = new Map<string, CompiledRouteConfig>()
    for (const rc of assembleRouteConfigurations(configs.values(), hosts.values())) {
      try {
        routes.set(rc.name, compileRouteConfig(rc, this.source, this.compiledHosts))
      } catch (cause) {
        throw new ConfigError(rc.name, `RouteConfiguration ${rc.name}: ${(cause as Error).message}`, {
          cause,
        })
      }
    }
    return routes
  }

  /** Loads a static configuration (every type, in discovery order). */
  applyStatic(cfg: StaticConfig, version = 'static'): void {
    const byType: Record<TypeUrl, unknown[]> = {
      [TypeUrl.Cluster]: cfg.clusters ?? [],
      [TypeUrl.ClusterLoadAssignment]: cfg.endpoints ?? [],
      [TypeUrl.Listener]: cfg.listeners ?? [],
      [TypeUrl.RouteConfiguration]: cfg.routes ?? [],
      [TypeUrl.VirtualHost]: cfg.virtualHosts ?? [],
      [TypeUrl.Secret]: cfg.secrets ?? [],
    }
    // Validate everything first so a bad file changes nothing.
    const clusterNames = new Set((cfg.clusters ?? []).map((c) => c?.name))
    for (const t of TYPE_ORDER) validateResources(t, byType[t], clusterNames)
    for (const t of TYPE_ORDER) this.apply(t, byType[t], version)
  }

  /** The TLS of each cluster that will get a new runtime (an unchanged one keeps its own). */
  private loadTls(defs: ReadonlyMap<string, Cluster>): Map<string, UpstreamTls | undefined> {
    const out = new Map<string, UpstreamTls | undefined>()
    for (const def of defs.values()) {
      if (this.clusters.get(def.name)?.fingerprint === JSON.stringify(def)) continue
      out.set(def.name, loadUpstreamTls(def))
    }
    return out
  }

  private swapClusters(tls: ReadonlyMap<string, UpstreamTls | undefined>): void {
    const defs = this.raw[TypeUrl.Cluster]
    const old = this.clusters
    const next = new Map<string, ClusterRuntime>()
    const all = [...BUILTIN_CLUSTERS.filter((b) => !defs.has(b.name)), ...defs.values()]
    for (const def of all) {
      const prev = old.get(def.name)
      if (prev && prev.fingerprint === JSON.stringify(def)) {
        next.set(def.name, prev)
        continue
      }
      const rt = new ClusterRuntime(def, this.statsFor(def.name), tls.get(def.name), this.certs)
      rt.applyAssignment(this.raw[TypeUrl.ClusterLoadAssignment].get(def.name))
      next.set(def.name, rt)
    }
    this.clusters = next
    for (const [name, rt] of old) {
      if (next.get(name) === rt) continue
      void rt.close()
      // A new runtime read its files afresh: a refusal of the old one's rotated files is past.
      this.tlsFailures.delete(name)
    }
  }

  /**
   * Certificate rotation: re-reads the TLS files of the clusters in use and gives each cluster
   * whose files changed a new runtime with them (new connections use the new certificates;
   * the old runtime's connections finish what they carry and close). Files that fail the checks
   * leave the cluster as it was; each such failure is reported once until the files change again.
   */
  reloadTlsFiles(): { reloaded: string[]; failed: { cluster: string; reason: string }[] } {
    const reloaded: string[] = []
    const failed: { cluster: string; reason: string }[] = []
    const next = new Map(this.clusters)
    for (const [name, rt] of this.clusters) {
      if (!rt.tls || !tlsFilesChanged(rt.tls)) continue
      let tls: UpstreamTls | undefined
      try {
        tls = loadUpstreamTls(rt.config)
      } catch (err) {
        const reason = (err as Error).message
        if (this.tlsFailures.get(name) !== reason) failed.push({ cluster: name, reason })
        this.tlsFailures.set(name, reason)
        continue
      }
      this.tlsFailures.delete(name)
      const fresh = new ClusterRuntime(rt.config, this.statsFor(name), tls, this.certs)
      fresh.applyAssignment(this.raw[TypeUrl.ClusterLoadAssignment].get(name))
      next.set(name, fresh)
      reloaded.push(name)
    }
    if (reloaded.length === 0) return { reloaded, failed }
    const old = this.clusters
    this.clusters = next
    for (const name of reloaded) void old.get(name)!.close()
    this.publish()
    return { reloaded, failed }
  }

  private statsFor(name: string): ClusterStats {
    let s = this.clusterStats.get(name)
    if (!s) {
      s = newClusterStats()
      this.clusterStats.set(name, s)
    }
    return s
  }

  private publish(): void {
    this.current = {
      serial: this.current.serial + 1,
      listeners: new Map(this.raw[TypeUrl.Listener]),
      routes: this.routes,
      clusters: this.clusters,
      secrets: this.raw[TypeUrl.Secret],
    }
    this.emit('change', this.current)
  }

  /**
   * What was accepted, as received (for /config_dump), but for route configurations: those are
   * shown as used, with their separately sent virtual hosts in place.
   */
  dump(): {
    versions: Record<TypeUrl, string>
    listeners: Listener[]
    routes: RouteConfiguration[]
    clusters: Cluster[]
    endpoints: ClusterLoadAssignment[]
    secrets?: Secret[]
  } {
    const secrets = [...this.raw[TypeUrl.Secret].values()]
    return {
      versions: { ...this.versions },
      listeners: [...this.raw[TypeUrl.Listener].values()],
      routes: assembleRouteConfigurations(
        this.raw[TypeUrl.RouteConfiguration].values(),
        this.raw[TypeUrl.VirtualHost].values(),
      ),
      clusters: [...this.raw[TypeUrl.Cluster].values()],
      endpoints: [...this.raw[TypeUrl.ClusterLoadAssignment].values()],
      // Private keys are never shown (as Envoy's config_dump).
      ...(secrets.length > 0 ? { secrets: secrets.map((x) => ({ ...x, privateKey: '[redacted]' })) } : {}),
    }
  }

  /** Stops cluster timers and closes every pool (shutdown). */
  async close(force = false): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => (force ? c.destroy() : c.close())))
  }
}
