import type {
  DestinationRule,
  Gateway,
  QuotaPolicy,
  Subset,
  TrafficPolicy,
  VirtualService,
} from '@minimesh/api'
import { hostMatches, hostSpecificity, resolveHost } from '../registry/hosts.ts'
import type { Service } from '../registry/registry.ts'
import type { ConfigSnapshot } from '../snapshot.ts'
import { namespacedName, nsOf, ROOT_NAMESPACE } from './names.ts'

/** The DestinationRule that applies to one service as seen from one namespace (same-namespace rules merged). */
export interface EffectiveRule {
  /** `ns/name` of the rules merged, oldest first. */
  from: string[]
  trafficPolicy?: TrafficPolicy
  subsets: Subset[]
}

/** True when a resource with this exportTo (Istio: `*`, `.`, namespace names) is visible in `ns`. */
function exportedTo(exportTo: readonly string[] | undefined, ownNs: string, ns: string): boolean {
  if (!exportTo || exportTo.length === 0) return true
  return exportTo.some((e) => e === '*' || (e === '.' && ownNs === ns) || e === ns)
}

/** True when every selector label is among the labels. */
export function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false
  return true
}

/**
 * Per-snapshot indexes and memoized lookups shared by every proxy's translation: which services,
 * VirtualServices and DestinationRules a namespace sees. Also the cache the generators keep their
 * shared (per-namespace) output in. Read-only once built, apart from the caches.
 */
export class PushContext {
  readonly snapshot: ConfigSnapshot
  /** Generated per-namespace or per-gateway output, keyed by the generator. */
  readonly cache = new Map<string, unknown>()
  /**
   * Problems found while generating (a Gateway server whose Secret is missing or unusable: the
   * server is left out), by what they are about; the discovery server logs each new one.
   */
  readonly warnings = new Map<string, string>()
  private readonly visibleServicesByNs = new Map<string, readonly Service[]>()
  private bySelectorLabel?: Map<string, Service[]>
  private readonly meshVsByNs = new Map<string, readonly VirtualService[]>()
  private readonly vsIndexByNs = new Map<
    string,
    {
      exact: Map<string, { order: number; vs: VirtualService }>
      wildcard: { host: string; order: number; vs: VirtualService }[]
    }
  >()
  private readonly ruleCache = new Map<string, EffectiveRule | null>()
  private readonly rulesByNs = new Map<string, DestinationRule[]>()

  constructor(snapshot: ConfigSnapshot) {
    this.snapshot = snapshot
    for (const dr of snapshot.destinationRules) {
      const list = this.rulesByNs.get(nsOf(dr)) ?? []
      list.push(dr)
      this.rulesByNs.set(nsOf(dr), list)
    }
  }

  /** Services of `ns` whose selector requires label `key` = `value`. */
  servicesSelectingLabel(ns: string, key: string, value: string): readonly Service[] {
    if (!this.bySelectorLabel) {
      this.bySelectorLabel = new Map()
      for (const s of this.snapshot.registry.services)
        for (const [k, v] of Object.entries(s.selector ?? {})) {
          const id = `${s.namespace}\0${k}\0${v}`
          const list = this.bySelectorLabel.get(id) ?? []
          list.push(s)
          this.bySelectorLabel.set(id, list)
        }
    }
    return this.bySelectorLabel.get(`${ns}\0${key}\0${value}`) ?? []
  }

  /** Services a proxy in `ns` can reach, sorted by hostname. */
  visibleServices(ns: string): readonly Service[] {
    let list = this.visibleServicesByNs.get(ns)
    if (!list) {
      list = this.snapshot.registry.services.filter((s) => exportedTo(s.exportTo, s.namespace, ns))
      this.visibleServicesByNs.set(ns, list)
    }
    return list
  }

  /** VirtualServices that sidecars in `ns` use: visible there and bound to the `mesh` gateway. */
  meshVirtualServices(ns: string): readonly VirtualService[] {
    let list = this.meshVsByNs.get(ns)
    if (!list) {
      list = this.snapshot.virtualServices.filter((vs) => {
        const gws = vs.spec.gateways ?? []
        return (gws.length === 0 || gws.includes('mesh')) && exportedTo(vs.spec.exportTo, nsOf(vs), ns)
      })
      this.meshVsByNs.set(ns, list)
    }
    return list
  }

  /** The first (oldest) mesh VirtualService seen from `ns` with a host covering the service. */
  virtualServiceFor(ns: string, service: Service): VirtualService | undefined {
    let index = this.vsIndexByNs.get(ns)
    if (!index) {
      index = { exact: new Map(), wildcard: [] }
      this.meshVirtualServices(ns).forEach((vs, order) => {
        for (const h of vs.spec.hosts ?? []) {
          const host = resolveHost(h, nsOf(vs))
          if (host.includes('*')) index!.wildcard.push({ host, order, vs })
          else if (!index!.exact.has(host)) index!.exact.set(host, { order, vs })
        }
      })
      this.vsIndexByNs.set(ns, index)
    }
    const exact = index.exact.get(service.hostname)
    const wild = index.wildcard.find((w) => hostMatches(w.host, service.hostname))
    if (exact && wild) return exact.order <= wild.order ? exact.vs : wild.vs
    return exact?.vs ?? wild?.vs
  }

  /**
   * The DestinationRule for a service as seen from `ns`, Istio's lookup: rules in the proxy's own
   * namespace, then in the service's namespace, then in the root namespace; inside one namespace
   * the most specific host wins and rules for the same host merge (subsets added, the oldest
   * traffic policy kept).
   */
  destinationRule(ns: string, service: Service): EffectiveRule | undefined {
    const cacheKey = `${ns}|${service.hostname}`
    const hit = this.ruleCache.get(cacheKey)
    if (hit !== undefined) return hit ?? undefined
    let found: EffectiveRule | undefined
    for (const lookIn of [ns, service.namespace, ROOT_NAMESPACE]) {
      const rules = (this.rulesByNs.get(lookIn) ?? []).filter(
        (dr) =>
          exportedTo(dr.spec.exportTo, lookIn, ns) &&
          hostMatches(resolveHost(dr.spec.host, lookIn), service.hostname),
      )
      if (rules.length === 0) continue
      const best = Math.max(...rules.map((dr) => hostSpecificity(resolveHost(dr.spec.host, lookIn))))
      const chosen = rules.filter((dr) => hostSpecificity(resolveHost(dr.spec.host, lookIn)) === best)
      const subsets: Subset[] = []
      for (const dr of chosen)
        for (const s of dr.spec.subsets ?? []) if (!subsets.some((x) => x.name === s.name)) subsets.push(s)
      found = {
        from: chosen.map((dr) => namespacedName(dr.metadata)),
        trafficPolicy: chosen.find((dr) => dr.spec.trafficPolicy)?.spec.trafficPolicy,
        subsets,
      }
      break
    }
    this.ruleCache.set(cacheKey, found ?? null)
    return found
  }

  /** Gateways whose selector matches a router's labels (in any namespace, as Istio by default). */
  gatewaysFor(labels: Record<string, string>): readonly Gateway[] {
    return this.snapshot.gateways.filter((gw) => selects(gw.spec.selector, labels))
  }

  /** VirtualServices bound to a gateway (`ns/name`, or `name` in the VirtualService's namespace). */
  gatewayVirtualServices(gateway: Gateway): readonly VirtualService[] {
    const key = namespacedName(gateway.metadata)
    return this.snapshot.virtualServices.filter(
      (vs) =>
        exportedTo(vs.spec.exportTo, nsOf(vs), nsOf(gateway)) &&
        (vs.spec.gateways ?? []).some((g) => (g.includes('/') ? g : `${nsOf(vs)}/${g}`) === key),
    )
  }

  /** QuotaPolicies of the service's namespace whose hosts cover it (no hosts: every service there). */
  quotaPoliciesFor(service: Service): readonly QuotaPolicy[] {
    return this.snapshot.quotaPolicies.filter(
      (qp) =>
        nsOf(qp) === service.namespace &&
        (qp.spec.hosts === undefined ||
          qp.spec.hosts.some((h) => hostMatches(resolveHost(h, nsOf(qp)), service.hostname))),
    )
  }

  /** Memoizes `make()` under `key` for the life of this context. */
  memo<T>(key: string, make: () => T): T {
    if (this.cache.has(key)) return this.cache.get(key) as T
    const value = make()
    this.cache.set(key, value)
    return value
  }
}

const contexts = new WeakMap<ConfigSnapshot, PushContext>()

/** The PushContext of a snapshot (one per snapshot, made on first use). */
export function pushContextOf(snapshot: ConfigSnapshot): PushContext {
  let ctx = contexts.get(snapshot)
  if (!ctx) {
    ctx = new PushContext(snapshot)
    contexts.set(snapshot, ctx)
  }
  return ctx
}
