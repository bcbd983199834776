// Metrics without Prometheus: the dashboard scrapes every connected proxy's /stats/prometheus
// itself, keeps a short history of scrapes per proxy, and turns the oldest scrape inside the
// window and the newest into rates (metrics/rates.ts).
import type { MeshEndpoints, ProxyTarget } from '../access/http.ts'
import type { BucketRate, RequestRate } from './graph.ts'
import { parsePrometheusText } from './parse.ts'
import { DURATION_BUCKET, REQUESTS, ratesBetween, type Scrape } from './rates.ts'

const wanted = (name: string) => name === REQUESTS || name === DURATION_BUCKET

export class ProxyScraper {
  readonly #endpoints: MeshEndpoints
  readonly #windowMs: number
  readonly #history = new Map<string, Scrape[]>()

  constructor(endpoints: MeshEndpoints, windowMs: number) {
    this.#endpoints = endpoints
    this.#windowMs = windowMs
  }

  /** Scrapes every target now; returns the rates over the window and what could not be read. */
  async collect(
    targets: readonly ProxyTarget[],
    now = Date.now(),
  ): Promise<{ requests: RequestRate[]; buckets: BucketRate[]; errors: string[] }> {
    const errors: string[] = []
    const requests: RequestRate[] = []
    const buckets: BucketRate[] = []
    const live = new Set(targets.map((t) => t.id))
    for (const id of this.#history.keys()) if (!live.has(id)) this.#history.delete(id)
    await Promise.all(
      targets.map(async (t) => {
        let text: string
        try {
          text = await this.#endpoints.get(this.#endpoints.proxyMetrics(t))
        } catch (err) {
          errors.push(`proxy ${t.pod}.${t.namespace}: ${(err as Error).message}`)
          return
        }
        const scrape: Scrape = { at: now, samples: parsePrometheusText(text, wanted) }
        const history = this.#history.get(t.id) ?? []
        history.push(scrape)
        // Keep the newest scrape at or before the window's start, and everything after it.
        const start = now - this.#windowMs
        while (history.length > 2 && history[1]!.at <= start) history.shift()
        this.#history.set(t.id, history)
        if (history.length < 2) return
        const r = ratesBetween(history[0]!, scrape)
        requests.push(...r.requests)
        buckets.push(...r.buckets)
      }),
    )
    return { requests, buckets, errors }
  }
}
