import { createUpstreamAgent, fetchJson, type UpstreamResult } from '@minimesh/bookinfo-common'
import type { FastifyBaseLogger } from 'fastify'
import type { ProductpageMetrics } from './metrics.ts'
import { DETAILS_ERROR, type Fetched, RATINGS_ERROR, REVIEWS_ERROR } from './page.ts'

export interface UpstreamsOptions {
  readonly detailsUrl: string
  readonly reviewsUrl: string
  readonly ratingsUrl: string
  /** Per attempt; default 3 s. */
  readonly timeoutMs?: number
  /** Attempts at reviews; default 2. */
  readonly reviewsAttempts?: number
}

/** A peer's answer as productpage passes it on: status for the API, value or message for the page. */
export type PeerAnswer = Fetched<unknown> & { readonly status: number }

/** productpage's calls to details, reviews and ratings over one keep-alive pool. */
export class Upstreams {
  readonly #options: UpstreamsOptions
  readonly #agent = createUpstreamAgent()
  readonly #metrics: ProductpageMetrics
  readonly #timeoutMs: number

  constructor(options: UpstreamsOptions, metrics: ProductpageMetrics) {
    this.#options = {
      ...options,
      detailsUrl: options.detailsUrl.replace(/\/+$/, ''),
      reviewsUrl: options.reviewsUrl.replace(/\/+$/, ''),
      ratingsUrl: options.ratingsUrl.replace(/\/+$/, ''),
    }
    this.#metrics = metrics
    this.#timeoutMs = options.timeoutMs ?? 3_000
  }

  details(id: number, headers: Record<string, string>, log: FastifyBaseLogger): Promise<PeerAnswer> {
    return this.#call('details', `${this.#options.detailsUrl}/details/${id}`, headers, log, 1, DETAILS_ERROR)
  }

  /** Reviews are tried twice (Istio's productpage does the same) before the page gives up on them. */
  reviews(id: number, headers: Record<string, string>, log: FastifyBaseLogger): Promise<PeerAnswer> {
    const attempts = this.#options.reviewsAttempts ?? 2
    return this.#call(
      'reviews',
      `${this.#options.reviewsUrl}/reviews/${id}`,
      headers,
      log,
      attempts,
      REVIEWS_ERROR,
    )
  }

  ratings(id: number, headers: Record<string, string>, log: FastifyBaseLogger): Promise<PeerAnswer> {
    return this.#call('ratings', `${this.#options.ratingsUrl}/ratings/${id}`, headers, log, 1, RATINGS_ERROR)
  }

  close(): Promise<void> {
    return this.#agent.close()
  }

  async #call(
    app: string,
    url: string,
    headers: Record<string, string>,
    log: FastifyBaseLogger,
    attempts: number,
    message: string,
  ): Promise<PeerAnswer> {
    let result: UpstreamResult | undefined
    for (let attempt = 1; attempt <= attempts; attempt++) {
      result = await fetchJson(url, { dispatcher: this.#agent, headers, timeoutMs: this.#timeoutMs })
      this.#metrics.upstreamResults.inc({ destination_app: app, response_code: String(result.status) })
      this.#metrics.upstreamDuration.observe({ destination_app: app }, result.durationMs / 1000)
      if (result.ok) return { ok: true, status: result.status, value: result.body }
      log.warn(
        { destination: app, url, attempt, status: result.status, error: result.error },
        `${app} call failed`,
      )
    }
    return { ok: false, status: result!.status, error: message }
  }
}
