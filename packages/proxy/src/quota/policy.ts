import { Counter, Registry } from 'prom-client'
import type { InboundPolicy, InboundRequestInfo, PolicyDecision } from '../policy.ts'
import { attributeLookup } from './attributes.ts'
import { QuotaChecker } from './checker.ts'
import type { QuotaClient } from './client.ts'

export interface QuotaPolicyOptions {
  client: QuotaClient
  /** Admit requests when the quota service cannot answer (default true, like Envoy). */
  failOpen?: boolean
}

/**
 * Quota as the inbound (server-side) policy: the destination's own sidecar asks the mesh-wide quota
 * service, so every client and every replica of the destination count against one allowance.
 * Its counters (`registry`) join the proxy's /stats/prometheus through `ProxyMetrics.addSource`.
 */
export class QuotaInboundPolicy implements InboundPolicy {
  private readonly checker: QuotaChecker
  readonly registry = new Registry()
  private readonly decisions = new Counter({
    name: 'minimesh_quota_decisions_total',
    help: 'Quota checks answered by the quota service, by quota and result (granted|refused)',
    labelNames: ['quota', 'result'],
    registers: [this.registry],
  })
  private readonly unavailable = new Counter({
    name: 'minimesh_quota_unavailable_total',
    help: 'Quota checks the quota service did not answer, by quota and what was done (fail_open|fail_closed)',
    labelNames: ['quota', 'action'],
    registers: [this.registry],
  })

  constructor(opts: QuotaPolicyOptions) {
    this.checker = new QuotaChecker({
      client: opts.client,
      failOpen: opts.failOpen,
      onDecision: (quota, ok) => this.decisions.inc({ quota, result: ok ? 'granted' : 'refused' }),
      onServiceError: (quota, admitted) =>
        this.unavailable.inc({ quota, action: admitted ? 'fail_open' : 'fail_closed' }),
    })
  }

  async check(info: InboundRequestInfo): Promise<PolicyDecision> {
    if (info.quotas.length === 0) return { allow: true }
    const lookup = attributeLookup(
      info.source && { ...info.source, ip: info.sourceAddress },
      info.destination,
      { headers: info.headers, path: info.path, method: info.method, host: info.host },
    )
    const d = await this.checker.check(info.quotas, lookup)
    return d.allowed ? { allow: true } : { allow: false, status: d.status, body: d.body, flag: d.flag }
  }
}
