/**
 * The Secure pillar on Bookinfo, following Istio's security tasks: automatic mTLS between
 * sidecars (principals in the metrics), PeerAuthentication STRICT and PERMISSIVE against a client
 * without a sidecar, the authorization task step by step (deny all, then allow productpage from
 * the gateway, details and reviews from productpage, ratings from reviews), a DENY on a path
 * winning over an ALLOW, and certificates rotated during traffic without a lost request.
 * Registered from bookinfo.e2e.ts, after the traffic scenarios, on the same cluster.
 */
import { describe, expect, it } from 'vitest'
import { counter, fixture, loadPage, loadPages, report, sample } from '../bookinfo.ts'
import type { ClusterDriver, PodRef } from '../driver.ts'

const NS = 'default'
const GATEWAY_PRINCIPAL = 'cluster.local/ns/minimesh-system/sa/minimesh-ingressgateway'
const PRODUCTPAGE_PRINCIPAL = 'cluster.local/ns/default/sa/bookinfo-productpage'
const REVIEWS_PRINCIPAL = 'cluster.local/ns/default/sa/bookinfo-reviews'

export interface SuiteState {
  driver: ClusterDriver
  gw: string
  productpage: PodRef
}

/** A fetch from a pod that reports a refused or reset connection as status 0 (drivers differ). */
async function tryFetch(driver: ClusterDriver, pod: PodRef, url: string): Promise<number> {
  try {
    return (await driver.fetchFromPod(pod, url)).status
  } catch {
    return 0
  }
}

export function securityScenarios(state: () => SuiteState): void {
  describe(`Security (${process.env.E2E_DRIVER ?? 'local'} cluster)`, () => {
    const apply = async (file: string) => {
      await state().driver.apply(file, NS)
      await state().driver.waitConfigPropagated()
    }
    const remove = async (file: string) => {
      await state().driver.delete(file, NS)
      await state().driver.waitConfigPropagated()
    }

    it('12. automatic mTLS: sidecars talk mTLS with no configuration; metrics carry both principals', async () => {
      const { driver, gw } = state()
      const reviews = await driver.pods(NS, 'app=reviews')
      const labels = {
        reporter: 'destination',
        source_principal: PRODUCTPAGE_PRINCIPAL,
        destination_principal: REVIEWS_PRINCIPAL,
        connection_security_policy: 'mutual_tls',
      }
      const sum = async () => {
        let s = 0
        for (const p of reviews) s += counter(await driver.proxyMetrics(p), 'minimesh_requests_total', labels)
        return s
      }
      const before = await sum()
      const n = 20
      const loads = await loadPages(gw, n, 4)
      const after = await sum()
      const pp = counter(await driver.proxyMetrics(state().productpage), 'minimesh_requests_total', {
        reporter: 'destination',
        source_principal: GATEWAY_PRINCIPAL,
        connection_security_policy: 'mutual_tls',
      })
      report('auto-mtls', { pages: n, reviews_mtls_requests: after - before, productpage_from_gateway: pp })
      expect(loads.every((l) => l.status === 200)).toBe(true)
      expect(after - before).toBe(n)
      expect(pp).toBeGreaterThanOrEqual(n)
    })

    it('13. PeerAuthentication: PERMISSIVE serves a client without a sidecar; STRICT refuses it and still serves meshed pods', async () => {
      const { driver, gw } = state()
      await driver.apply(fixture('legacy-client.yaml'), NS)
      await driver.waitReady(NS, 'app=legacy-client', 120_000)
      const [legacy] = await driver.pods(NS, 'app=legacy-client')
      const url = 'http://details:9080/details/0'
      const permissive = await tryFetch(driver, legacy!, url)
      await apply(sample('security/peer-authentication-strict.yaml'))
      const strict = await tryFetch(driver, legacy!, url)
      const meshed = await loadPages(gw, 10, 2)
      await apply(sample('security/peer-authentication-permissive.yaml'))
      const back = await tryFetch(driver, legacy!, url)
      report('peer-authentication', {
        permissive_legacy: permissive,
        strict_legacy: strict,
        strict_meshed_pages_ok: meshed.filter((l) => l.status === 200 && !l.body.includes('Error fetching'))
          .length,
        permissive_again_legacy: back,
      })
      expect(permissive).toBe(200)
      expect(strict).not.toBe(200)
      expect(meshed.every((l) => l.status === 200 && !l.body.includes('Error fetching'))).toBe(true)
      expect(back).toBe(200)
      await remove(sample('security/peer-authentication-permissive.yaml'))
      await driver.delete(fixture('legacy-client.yaml'), NS)
    }, 240_000)

    it("14. authorization task: each step gives exactly the page Istio's task describes", async () => {
      const { driver, gw } = state()
      await driver.apply(sample('networking/virtual-service-reviews-v3.yaml'), NS)
      await driver.waitConfigPropagated()
      const steps: Record<string, unknown> = {}

      await apply(sample('security/authorization-allow-nothing.yaml'))
      const denied = await loadPage(gw)
      steps.allowNothing = { status: denied.status, body: denied.body.slice(0, 40) }
      expect(denied.status).toBe(403)
      expect(denied.body).toBe('RBAC: access denied')

      await apply(sample('security/authorization-productpage.yaml'))
      const page = await loadPage(gw)
      steps.productpage = {
        status: page.status,
        details: !page.body.includes('Error fetching product details'),
      }
      expect(page.status).toBe(200)
      expect(page.body).toContain('Error fetching product details')
      expect(page.body).toContain('Error fetching product reviews')

      await apply(sample('security/authorization-details-reviews.yaml'))
      const withReviews = await loadPage(gw)
      steps.detailsReviews = { status: withReviews.status, version: withReviews.version }
      expect(withReviews.status).toBe(200)
      expect(withReviews.body).not.toContain('Error fetching product details')
      expect(withReviews.body).not.toContain('Error fetching product reviews')
      expect(withReviews.body).toContain('Ratings service is currently unavailable')

      await apply(sample('security/authorization-ratings.yaml'))
      const full = await loadPages(gw, 10, 2)
      steps.ratings = { versions: full.map((l) => l.version) }
      expect(full.every((l) => l.status === 200 && l.version === 'v3')).toBe(true)

      // productpage itself may not call ratings: only reviews' identity is allowed.
      const direct = await driver.fetchFromPod(state().productpage, 'http://ratings:9080/ratings/0')
      steps.productpageToRatings = direct.status
      expect(direct.status).toBe(403)
      report('authorization-task', steps)

      for (const f of [
        'authorization-ratings.yaml',
        'authorization-details-reviews.yaml',
        'authorization-productpage.yaml',
        'authorization-allow-nothing.yaml',
      ])
        await driver.delete(sample(`security/${f}`), NS)
      await driver.apply(sample('networking/virtual-service-all-v1.yaml'), NS)
      await driver.waitConfigPropagated()
      expect((await loadPage(gw)).status).toBe(200)
    }, 240_000)

    it('15. a DENY on a path wins over an ALLOW of everything', async () => {
      const { gw } = state()
      await apply(fixture('authorization-deny-path.yaml'))
      const page = await loadPage(gw)
      const api = await fetch(`${gw}/api/v1/products/0`)
      const apiBody = await api.text()
      report('deny-over-allow', { productpage: page.status, api: api.status })
      expect(page.status).toBe(200)
      expect(api.status).toBe(403)
      expect(apiBody).toBe('RBAC: access denied')
      await remove(fixture('authorization-deny-path.yaml'))
    })

    it('16. certificates rotated during traffic: no request lost, in either direction', async () => {
      const { driver, productpage } = state()
      await driver.apply(fixture('rotating-workload.yaml'), NS)
      await driver.waitReady(NS, 'app=rotating', 120_000)
      await driver.waitConfigPropagated()
      const [rotating] = await driver.pods(NS, 'app=rotating')
      const rotations = async () =>
        gauge(await driver.proxyMetrics(rotating!), 'minimesh_agent_cert_rotations_total')
      const before = await rotations()
      const statuses: number[] = []
      const until = Date.now() + 25_000
      while (Date.now() < until) {
        const [inbound, outbound] = await Promise.all([
          driver.loadFromPod(productpage, 'http://rotating:9080/ratings/0', 40, 4),
          driver.loadFromPod(rotating!, 'http://details:9080/details/0', 40, 4),
        ])
        for (const r of [...inbound, ...outbound]) statuses.push(r.status)
      }
      const after = await rotations()
      const mtls = counter(await driver.proxyMetrics(rotating!), 'minimesh_requests_total', {
        reporter: 'destination',
        source_principal: PRODUCTPAGE_PRINCIPAL,
        connection_security_policy: 'mutual_tls',
      })
      report('rotation-under-traffic', {
        requests: statuses.length,
        failed: statuses.filter((s) => s !== 200).length,
        rotations: after - before,
        inbound_mtls_requests: mtls,
      })
      expect(after - before).toBeGreaterThanOrEqual(2)
      expect(statuses.length).toBeGreaterThan(200)
      expect(statuses.filter((s) => s !== 200)).toEqual([])
      expect(mtls).toBeGreaterThan(0)
      await driver.delete(fixture('rotating-workload.yaml'), NS)
    }, 240_000)
  })
}

/** The value of an unlabelled Prometheus metric (NaN when absent). */
function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1))
}
