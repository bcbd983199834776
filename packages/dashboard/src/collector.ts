// The dashboard's state, refreshed every tick: meshd's /debug/syncz (the connected proxies and
// their sync state) and /debug/configz?rejected=1 (what meshd refused and why), the request rates
// (from Prometheus when configured, else scraped from the proxies), the graph built from them,
// and a short history of every workload's golden metrics for the plots.
import { type MeshEndpoints, type ProxyTarget, parseNodeId } from './access/http.ts'
import { ProxyScraper } from './metrics/direct.ts'
import { buildGraph, type GraphEdge, type MeshGraph } from './metrics/graph.ts'
import { prometheusRates } from './metrics/prometheus.ts'
import { traceLink } from './trace-link.ts'

interface TypeSync {
  sent: string | null
  acked: string | null
  synced: boolean
  lastNack: { version: string; message: string; at: string } | null
}

interface ProxySync {
  proxy: string
  type: string
  namespace: string
  pod: string
  connectedAt: string
  types: Record<string, TypeSync>
}

interface RejectedConfig {
  key: string
  kind: string
  namespace?: string
  name: string
  origin?: string
  servingPrevious: boolean
  reasons: string[]
}

export interface HistoryPoint {
  at: number
  rps: number
  successRate: number | null
  p99Ms: number | null
}

export interface DashboardState {
  at: string
  connectedTo: string
  metricsSource: 'prometheus' | 'proxies'
  windowSeconds: number
  graph: MeshGraph & { edges: (GraphEdge & { traceUrl?: string })[] }
  history: Record<string, HistoryPoint[]>
  proxies: ProxySync[]
  rejected: RejectedConfig[]
  zipkinUrl?: string
  errors: string[]
}

export interface CollectorOptions {
  endpoints: MeshEndpoints
  /** Rate window (default 30 s). */
  windowSeconds?: number
  /** Points of history kept per workload (default 180). */
  historyPoints?: number
  /** A Zipkin UI base URL for each edge's trace link. */
  zipkinUrl?: string
}

interface SynczEntry {
  proxy: string
  type: string
  namespace: string
  connectedAt: string
  types: Record<string, TypeSync>
}

interface ConfigzBody {
  objects?: {
    key: string
    kind: string
    namespace?: string
    name: string
    origin?: string
    state: string
    servingPrevious?: boolean
    findings: { text: string; severity?: string }[]
  }[]
  files?: { origin: string; findings: { text: string }[] }[]
}

export class Collector {
  readonly #o: Required<Omit<CollectorOptions, 'zipkinUrl'>> & { zipkinUrl?: string }
  readonly #scraper: ProxyScraper
  readonly #history = new Map<string, HistoryPoint[]>()
  #state: DashboardState | undefined

  constructor(options: CollectorOptions) {
    this.#o = { windowSeconds: 30, historyPoints: 180, ...options }
    this.#scraper = new ProxyScraper(options.endpoints, this.#o.windowSeconds * 1000)
  }

  get state(): DashboardState | undefined {
    return this.#state
  }

  async #json<T>(path: string): Promise<T> {
    return JSON.parse(await this.#o.endpoints.get(`${this.#o.endpoints.meshd}${path}`)) as T
  }

  /** One refresh: never throws; what failed is listed in `errors`. */
  async refresh(now = Date.now()): Promise<DashboardState> {
    const { endpoints } = this.#o
    const errors: string[] = []
    const [syncz, configz] = await Promise.all([
      this.#json<SynczEntry[]>('/debug/syncz').catch((err: Error) => {
        errors.push(`meshd: ${err.message}`)
        return undefined
      }),
      this.#json<ConfigzBody>('/debug/configz?rejected=1').catch((err: Error) => {
        errors.push(`meshd: ${err.message}`)
        return undefined
      }),
    ])
    const proxies: ProxySync[] = (syncz ?? this.#state?.proxies ?? []).map((e) => {
      const t = parseNodeId(e.proxy)
      return {
        proxy: e.proxy,
        type: e.type,
        namespace: e.namespace,
        pod: t?.pod ?? e.proxy,
        connectedAt: e.connectedAt,
        types: Object.fromEntries(
          Object.entries(e.types).map(([k, v]) => [
            k,
            { sent: v.sent, acked: v.acked, synced: v.synced, lastNack: v.lastNack },
          ]),
        ),
      }
    })
    const rejected: RejectedConfig[] = configz
      ? [
          ...(configz.objects ?? [])
            .filter((o) => o.state === 'rejected')
            .map((o) => ({
              key: o.key,
              kind: o.kind,
              ...(o.namespace ? { namespace: o.namespace } : {}),
              name: o.name,
              ...(o.origin ? { origin: o.origin } : {}),
              servingPrevious: o.servingPrevious === true,
              reasons: o.findings.filter((f) => f.severity !== 'warning').map((f) => f.text),
            })),
          ...(configz.files ?? []).map((f) => ({
            key: `file:${f.origin}`,
            kind: 'File',
            name: f.origin,
            servingPrevious: true,
            reasons: f.findings.map((x) => x.text),
          })),
        ]
      : (this.#state?.rejected ?? [])

    let rates: Awaited<ReturnType<typeof prometheusRates>> = { requests: [], buckets: [] }
    if (endpoints.prometheus) {
      try {
        rates = await prometheusRates(endpoints.get, endpoints.prometheus, this.#o.windowSeconds)
      } catch (err) {
        errors.push(`prometheus: ${(err as Error).message}`)
      }
    } else {
      const targets = proxies.map((p) => parseNodeId(p.proxy)).filter((t): t is ProxyTarget => !!t)
      const r = await this.#scraper.collect(targets, now)
      rates = r
      errors.push(...r.errors)
    }
    const graph = buildGraph(rates.requests, rates.buckets)
    for (const [w, g] of Object.entries(graph.workloads)) {
      const h = this.#history.get(w) ?? []
      h.push({ at: now, rps: g.rps, successRate: g.successRate ?? null, p99Ms: g.p99Ms ?? null })
      while (h.length > this.#o.historyPoints) h.shift()
      this.#history.set(w, h)
    }
    const nodes = new Map(graph.nodes.map((n) => [n.id, n]))
    this.#state = {
      at: new Date(now).toISOString(),
      connectedTo: endpoints.describe,
      metricsSource: endpoints.prometheus ? 'prometheus' : 'proxies',
      windowSeconds: this.#o.windowSeconds,
      graph: {
        ...graph,
        edges: graph.edges.map((e) => {
          const url = this.#o.zipkinUrl
            ? traceLink(this.#o.zipkinUrl, nodes.get(e.source), nodes.get(e.destination))
            : undefined
          return url ? { ...e, traceUrl: url } : e
        }),
      },
      history: Object.fromEntries(this.#history),
      proxies,
      rejected,
      ...(this.#o.zipkinUrl ? { zipkinUrl: this.#o.zipkinUrl } : {}),
      errors,
    }
    return this.#state
  }
}
