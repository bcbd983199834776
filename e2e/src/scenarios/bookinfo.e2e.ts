/**
 * Bookinfo on minimesh, following Istio's traffic-management tasks. One suite, run serially,
 * against whichever cluster driver the config chose (local or kind). Every request is real HTTP:
 * from this process through the ingress gateway, or from inside a meshed pod.
 */
import { waitUntil } from '@minimesh/cli'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { binomialTestPValue } from '../binomial.ts'
import { countBy, counter, fixture, loadPage, loadPages, login, report, sample } from '../bookinfo.ts'
import { currentDriver } from '../cluster.ts'
import type { ClusterDriver, PodRef } from '../driver.ts'
import { dashboardScenarios } from './dashboard.ts'
import { lifecycleScenarios } from './lifecycle.ts'
import { securityScenarios } from './security.ts'
import { tracingScenarios } from './tracing.ts'

const NS = 'default'
const SIGNIFICANCE = 0.001
let driver: ClusterDriver
let gw: string
let productpage: PodRef

async function route(...files: string[]) {
  for (const f of files) await driver.apply(sample(`networking/${f}`), NS)
  await driver.waitConfigPropagated()
}
async function unroute(...files: string[]) {
  for (const f of files) await driver.delete(sample(`networking/${f}`), NS)
  await driver.waitConfigPropagated()
}

beforeAll(async () => {
  driver = await currentDriver()
  await driver.setup()
  await driver.apply(sample('bookinfo.yaml'), NS)
  await driver.apply(sample('bookinfo-gateway.yaml'), NS)
  await driver.apply(sample('networking/destination-rule-all.yaml'), NS)
  for (const app of ['details', 'ratings', 'reviews', 'productpage'])
    await driver.waitReady(NS, `app=${app}`, 180_000)
  await driver.waitReady('minimesh-system', 'minimesh=ingressgateway', 120_000)
  gw = await driver.gatewayUrl()
  productpage = (await driver.pods(NS, 'app=productpage'))[0]!
  await route('virtual-service-all-v1.yaml')
}, 600_000)

afterAll(async () => {
  await driver?.teardown()
}, 120_000)

describe(`Bookinfo traffic management (${process.env.E2E_DRIVER ?? 'local'} cluster)`, () => {
  it('1. all-v1: every productpage load shows reviews v1 (no stars)', async () => {
    const loads = await loadPages(gw, 100, 8)
    const counts = countBy(loads)
    report('all-v1', { loads: loads.length, counts })
    expect(loads.every((l) => l.status === 200)).toBe(true)
    expect(counts).toEqual({ v1: 100 })
  })

  it('1b. all-v1 through a gateway with the mesh identity: its proxy holds the certificate of its ServiceAccount', async () => {
    // The gateway template gave the gateway's proxy the mesh roots and its CA token (install-time
    // manifests cannot carry meshd's root); admin /certs on 127.0.0.1:15000 inside its pod.
    const [gateway] = await driver.pods('minimesh-system', 'minimesh=ingressgateway')
    expect(gateway).toBeDefined()
    const res = await driver.fetchFromPod(gateway!, 'http://127.0.0.1:15000/certs')
    expect(res.status).toBe(200)
    const certs = JSON.parse(res.body) as {
      identity: string | null
      certificates: { cert_chain: { subject_alt_names: { uri?: string }[] }[] }[]
    }
    report('gateway-identity', { identity: certs.identity })
    const spiffe = 'spiffe://cluster.local/ns/minimesh-system/sa/minimesh-ingressgateway'
    expect(certs.identity).toBe(spiffe)
    expect(certs.certificates[0]?.cert_chain[0]?.subject_alt_names).toContainEqual({ uri: spiffe })
  })

  it('2. header routing (reviews-test-v2): jason always gets v2 (black stars), anonymous never', async () => {
    await route('virtual-service-reviews-test-v2.yaml')
    const cookie = await login(gw, 'jason')
    const jason = await loadPages(gw, 30, 4, cookie)
    const anon = await loadPages(gw, 30, 4)
    report('header-routing', { jason: countBy(jason), anonymous: countBy(anon) })
    expect(countBy(jason)).toEqual({ v2: 30 })
    expect(countBy(anon)).toEqual({ v1: 30 })
    await route('virtual-service-all-v1.yaml')
  })

  it('2b. resource status: a route to an undefined subset is Rejected in meshctl get, naming why and the generation that serves, which keeps serving; fixed, Accepted', async () => {
    const getDetails = async () => (await driver.meshctl(['get', 'vs', 'details', '-n', NS])).stdout
    /** meshctl get's line once it is no longer Pending (on Kubernetes meshd writes status just after its verdict). */
    const settled = async (want: RegExp) => {
      let text = ''
      await waitUntil(
        "meshctl get vs details to show meshd's verdict",
        async () => {
          text = await getDetails()
          return { done: want.test(text), message: text.trim() }
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      )
      return text
    }
    // The STATUS column itself (a Pending line quotes the last verdict in parentheses).
    const accepted = /\s{2}Accepted \(generation (\d+)\)\n$/
    const serving = Number(accepted.exec(await settled(accepted))?.[1])
    expect(serving).toBeGreaterThan(0)
    await driver.apply(fixture('vs-details-unknown-subset.yaml'), NS)
    await driver.waitConfigPropagated()
    const rejected = await settled(/\s{2}Rejected: /)
    report('resource-status', { rejected: rejected.trim() })
    expect(rejected).toMatch(
      new RegExp(
        `\\ndetails +\\S+ +Rejected: spec\\.http\\[0\\]\\.route\\[0\\]\\.destination\\.subset: subset "v9" is not defined by DestinationRule default/details, which defines v1; serving generation ${serving}\\n$`,
      ),
    )
    const loads = await loadPages(gw, 10, 2)
    expect(loads.every((l) => l.status === 200)).toBe(true) // details' previous route still serves
    await route('virtual-service-all-v1.yaml')
    expect(await settled(new RegExp(`\\s{2}Accepted \\(generation ${serving + 2}\\)\\n$`))).toMatch(
      new RegExp(`\\ndetails +\\S+ +Accepted \\(generation ${serving + 2}\\)\\n$`),
    )
  })

  it('3. canary splits: 90/10 v1/v2 and 50/50 v1/v3 pass a binomial test at 0.001 and reject a wrong split', async () => {
    await route('virtual-service-reviews-90-10.yaml')
    const a = countBy(await loadPages(gw, 1000, 16))
    const nA = (a.v1 ?? 0) + (a.v2 ?? 0)
    await route('virtual-service-reviews-50-v3.yaml')
    const b = countBy(await loadPages(gw, 1000, 16))
    const nB = (b.v1 ?? 0) + (b.v3 ?? 0)
    const p90 = binomialTestPValue(a.v2 ?? 0, nA, 0.1)
    const p50 = binomialTestPValue(b.v3 ?? 0, nB, 0.5)
    const wrongA = binomialTestPValue(a.v2 ?? 0, nA, 0.5)
    const wrongB = binomialTestPValue(b.v3 ?? 0, nB, 0.1)
    report('canary-splits', { '90-10': a, '50-v3': b, p90, p50, wrongA, wrongB })
    expect(nA).toBe(1000)
    expect(nB).toBe(1000)
    expect(p90).toBeGreaterThan(SIGNIFICANCE)
    expect(p50).toBeGreaterThan(SIGNIFICANCE)
    expect(wrongA).toBeLessThan(SIGNIFICANCE)
    expect(wrongB).toBeLessThan(SIGNIFICANCE)
    await route('virtual-service-all-v1.yaml')
  }, 300_000)

  it('4. delay fault (ratings-test-delay): jason waits about 6 s and sees reviews unavailable; anonymous is fast', async () => {
    await route('virtual-service-reviews-test-v2.yaml', 'virtual-service-ratings-test-delay.yaml')
    const cookie = await login(gw, 'jason')
    const jason = await loadPage(gw, cookie)
    const anon = await loadPage(gw)
    report('delay-fault', {
      jason_ms: Math.round(jason.ms),
      jason: jason.version,
      anonymous_ms: Math.round(anon.ms),
    })
    expect(jason.version).toBe('unavailable')
    expect(jason.body).toContain('Error fetching product reviews')
    expect(jason.ms).toBeGreaterThan(5500)
    expect(jason.ms).toBeLessThan(8000)
    expect(anon.ms).toBeLessThan(1500)
    expect(anon.version).toBe('v1')
  }, 60_000)

  it('5. abort fault (ratings-test-abort): jason sees "Ratings service is currently unavailable"', async () => {
    await route('virtual-service-ratings-test-abort.yaml')
    const cookie = await login(gw, 'jason')
    const loads = await loadPages(gw, 10, 2, cookie)
    report('abort-fault', {
      loads: loads.length,
      unavailable: loads.filter((l) => l.body.includes('Ratings service is currently unavailable')).length,
    })
    for (const l of loads) {
      expect(l.status).toBe(200)
      expect(l.body).toContain('Ratings service is currently unavailable')
    }
    await unroute('virtual-service-ratings-test-abort.yaml')
    await route('virtual-service-all-v1.yaml', 'virtual-service-ratings-test-delay.yaml')
  })

  it('6. request timeout: 0.5 s on reviews with a 2 s ratings delay returns in about 1 s with reviews unavailable', async () => {
    await route('virtual-service-ratings-delay-2s.yaml', 'virtual-service-reviews-timeout.yaml')
    const page = await loadPage(gw)
    report('timeout', { ms: Math.round(page.ms), version: page.version })
    expect(page.version).toBe('unavailable')
    // productpage tries reviews twice; each try is cut at 0.5 s by the reviews route's timeout.
    expect(page.ms).toBeGreaterThan(900)
    expect(page.ms).toBeLessThan(2000)
    await unroute('virtual-service-ratings-delay-2s.yaml')
    await route('virtual-service-all-v1.yaml')
  }, 60_000)

  it('7. retries: with ratings v-faulty the error rate drops as the retry count predicts', async () => {
    await driver.apply(fixture('ratings-faulty.yaml'), NS)
    await driver.waitReady(NS, 'app=ratings,version=v-faulty', 120_000)
    const rates: Record<string, { errors: number; n: number; p: number }> = {}
    for (const [file, attempts] of [
      ['vs-ratings-faulty-no-retry.yaml', 0],
      ['vs-ratings-faulty-retry.yaml', 2],
    ] as const) {
      await driver.apply(fixture(file), NS)
      await driver.waitConfigPropagated()
      // One request at a time, from one process in the pod (an exec per request took minutes on Kubernetes).
      const n = 200
      const results = await driver.loadFromPod(productpage, 'http://ratings:9080/ratings/0', n, 1)
      expect(results.length).toBe(n)
      const errors = results.filter((r) => r.status !== 200).length
      const expected = 0.5 ** (attempts + 1)
      rates[attempts] = { errors, n, p: binomialTestPValue(errors, n, expected) }
    }
    report('retries', rates)
    expect(rates[0]!.p).toBeGreaterThan(SIGNIFICANCE)
    expect(rates[2]!.p).toBeGreaterThan(SIGNIFICANCE)
    expect(rates[2]!.errors).toBeLessThan(rates[0]!.errors)
    await driver.delete(fixture('vs-ratings-faulty-retry.yaml'), NS)
    await driver.delete(fixture('ratings-faulty.yaml'), NS)
    await route('destination-rule-all.yaml')
  }, 240_000)

  it('8. circuit breaking: maxConnections 1 and 1 pending request give 503 UO under concurrent load, counted', async () => {
    await route('destination-rule-ratings-circuit-breaker.yaml')
    const before = counter(await driver.proxyMetrics(productpage), 'minimesh_requests_total', {
      response_flags: 'UO',
    })
    const flat = (await driver.loadFromPod(productpage, 'http://ratings:9080/ratings/0', 200, 20)).map(
      (r) => r.status,
    )
    const overflow = flat.filter((s) => s === 503).length
    const after = counter(await driver.proxyMetrics(productpage), 'minimesh_requests_total', {
      response_flags: 'UO',
    })
    report('circuit-breaking', {
      requests: flat.length,
      ok: flat.filter((s) => s === 200).length,
      overflow_503: overflow,
      uo_counted: after - before,
    })
    expect(overflow).toBeGreaterThan(0)
    expect(after - before).toBe(overflow)
    await route('destination-rule-all.yaml')
  }, 240_000)

  it('9. quota: ratings limited per second admits the allowance; the rest get 429 and productpage shows ratings unavailable', async () => {
    await route('virtual-service-reviews-test-v2.yaml')
    await driver.apply(sample('networking/quota-ratings.yaml'), NS)
    await driver.waitConfigPropagated()
    const cookie = await login(gw, 'jason')
    // 10 pages a second for 5 s; each page makes one ratings call from reviews-v2.
    const pages: { ok: boolean }[] = []
    const start = Date.now()
    const inflight: Promise<void>[] = []
    for (let i = 0; i < 50; i++) {
      const due = start + i * 100
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))
      inflight.push(
        loadPage(gw, cookie).then(
          (p) => void pages.push({ ok: !p.body.includes('Ratings service is currently unavailable') }),
        ),
      )
    }
    await Promise.all(inflight)
    const admitted = pages.filter((p) => p.ok).length
    // productpage calling ratings directly has its own counter (source productpage): 1 a second too.
    const direct = (await driver.loadFromPod(productpage, 'http://ratings:9080/ratings/0', 3, 1)).at(-1)!
    report('quota', {
      pages: pages.length,
      ratings_admitted: admitted,
      refused: pages.length - admitted,
      direct_status: direct.status,
    })
    // quota-ratings.yaml: 1 request per second to ratings → 5 in 5 s, within one window slot at each edge.
    expect(admitted).toBeGreaterThanOrEqual(4)
    expect(admitted).toBeLessThanOrEqual(7)
    expect(direct.status).toBe(429)
    expect(direct.body).toContain('RESOURCE_EXHAUSTED: quota exceeded for')
    await driver.delete(sample('networking/quota-ratings.yaml'), NS)
    await route('virtual-service-all-v1.yaml')
  }, 120_000)

  it('10. meshd restarted during traffic: no request fails', async () => {
    const results: number[] = []
    let stop = false
    const load = (async () => {
      while (!stop) results.push((await loadPage(gw)).status)
    })()
    await new Promise((r) => setTimeout(r, 1000))
    await driver.restartControlPlane()
    await new Promise((r) => setTimeout(r, 3000))
    stop = true
    await load
    report('meshd-restart', { requests: results.length, failed: results.filter((s) => s !== 200).length })
    expect(results.length).toBeGreaterThan(10)
    expect(results.every((s) => s === 200)).toBe(true)
  }, 120_000)

  it('11. metrics: minimesh_requests_total on the productpage and reviews sidecars counts what was sent', async () => {
    const reviewsPods = await driver.pods(NS, 'app=reviews')
    const sum = async (pods: PodRef[], labels: Record<string, string>) => {
      let s = 0
      for (const p of pods) s += counter(await driver.proxyMetrics(p), 'minimesh_requests_total', labels)
      return s
    }
    const ppLabels = { reporter: 'destination', destination_workload: 'productpage-v1', response_code: '200' }
    const rvLabels = { reporter: 'destination', source_workload: 'productpage-v1', response_code: '200' }
    const pp0 = await sum([productpage], ppLabels)
    const rv0 = await sum(reviewsPods, rvLabels)
    const n = 40
    const loads = await loadPages(gw, n, 4)
    const pp1 = await sum([productpage], ppLabels)
    const rv1 = await sum(reviewsPods, rvLabels)
    report('metrics', { sent: n, productpage: pp1 - pp0, reviews: rv1 - rv0 })
    expect(loads.every((l) => l.status === 200)).toBe(true)
    expect(pp1 - pp0).toBe(n)
    expect(rv1 - rv0).toBe(n)
  })
})

dashboardScenarios(() => ({ driver, gw, productpage }))
securityScenarios(() => ({ driver, gw, productpage }))
// Then: it restarts reviews (routing still all-v1).
lifecycleScenarios(() => ({ driver, gw }))
// Last: it installs the mesh again (with a collector) and makes Bookinfo's pods anew.
tracingScenarios(() => ({ driver, gw }))
