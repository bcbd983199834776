import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { TypeUrl, validateProxyResource } from '@minimesh/api'
import { describe, expect, it } from 'vitest'
import { bookinfoSnapshot, PROXIES, SCENARIOS } from '../testdata/fixtures.ts'
import { translate } from './index.ts'

const GOLDEN = fileURLToPath(new URL('../testdata/golden/', import.meta.url))
const UPDATE = process.env.UPDATE_GOLDEN === '1'

describe('golden translation of Bookinfo under Istio task configs', () => {
  for (const [scenario, files] of Object.entries(SCENARIOS)) {
    describe(scenario, () => {
      const snapshot = bookinfoSnapshot(files)
      it('accepts every object of the scenario', () => {
        expect(snapshot.status.filter((s) => s.state === 'rejected')).toEqual([])
      })
      for (const [proxyName, proxy] of Object.entries(PROXIES)) {
        it(proxyName, () => {
          const config = translate(snapshot, proxy)
          const text = `${JSON.stringify(config, null, 2)}\n`
          const file = `${GOLDEN}${scenario}/${proxyName}.json`
          if (UPDATE) {
            mkdirSync(`${GOLDEN}${scenario}`, { recursive: true })
            writeFileSync(file, text)
          }
          expect(existsSync(file), `${file} missing; run with UPDATE_GOLDEN=1`).toBe(true)
          expect(text, `${file} is stale; run with UPDATE_GOLDEN=1 and review the diff`).toBe(
            readFileSync(file, 'utf8'),
          )
          // Everything sent must pass the proxy's own validation.
          for (const [type, list] of [
            [TypeUrl.Cluster, config.clusters],
            [TypeUrl.ClusterLoadAssignment, config.endpoints],
            [TypeUrl.Listener, config.listeners],
            [TypeUrl.RouteConfiguration, config.routes],
            [TypeUrl.Secret, config.secrets ?? []],
          ] as const)
            for (const r of list) expect(validateProxyResource(type, r)).toEqual([])
        })
      }
    })
  }

  it('has no golden file that no case writes', () => {
    const expected = new Set(
      Object.keys(SCENARIOS).flatMap((s) => Object.keys(PROXIES).map((p) => `${s}/${p}.json`)),
    )
    const present = readdirSync(GOLDEN, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.json'),
    )
    expect(present.filter((f) => !expected.has(f))).toEqual([])
  })

  it('is deterministic: two translations of equal snapshots are byte-identical', () => {
    const a = translate(bookinfoSnapshot(SCENARIOS['reviews-test-v2']!), PROXIES['productpage-sidecar']!)
    const b = translate(bookinfoSnapshot(SCENARIOS['reviews-test-v2']!), PROXIES['productpage-sidecar']!)
    expect(JSON.stringify(a)).toBe(JSON.stringify(b))
  })
})

describe('DestinationRule tls becomes the cluster tls', () => {
  const config = translate(bookinfoSnapshot(SCENARIOS['tls-origination']!), PROXIES['productpage-sidecar']!)
  const tls = (name: string) => config.clusters.find((c) => c.name === name)?.tls
  const ratings = (subset: string) => `outbound|9080|${subset}|ratings.default.svc.cluster.local`

  it('a SIMPLE top-level policy: the service cluster and a subset without its own tls', () => {
    const simple = {
      mode: 'SIMPLE',
      caCertificates: '/etc/ratings-certs/ca.pem',
      subjectAltNames: ['ratings.default.svc.cluster.local'],
    }
    expect(tls(ratings(''))).toEqual(simple)
    expect(tls(ratings('v1'))).toEqual(simple)
  })

  it("a subset's tls replaces the top-level one (MUTUAL with its files and sni)", () => {
    expect(tls(ratings('v2'))).toEqual({
      mode: 'MUTUAL',
      caCertificates: '/etc/ratings-certs/ca.pem',
      clientCertificate: '/etc/ratings-certs/client.pem',
      privateKey: '/etc/ratings-certs/client-key.pem',
      sni: 'ratings-v2.internal',
    })
  })

  it("a subset's port-level settings win for their port; another port's settings do nothing", () => {
    expect(tls(ratings('v3'))).toEqual({ mode: 'DISABLE' })
  })

  it('top-level port-level settings replace every part for the port (the load balancer too)', () => {
    const details = config.clusters.find((c) => c.name === 'outbound|9080||details.default.svc.cluster.local')
    expect(details?.tls).toEqual({ mode: 'SIMPLE', sni: 'details.internal' })
    expect(details?.lbPolicy).toBe('LEAST_REQUEST')
  })
})

describe('PeerAuthentication: inbound mtls per port and auto mTLS endpoints', () => {
  const config = (proxy: string) =>
    translate(bookinfoSnapshot(SCENARIOS['peer-authentication']!), PROXIES[proxy]!)
  const inbound = (proxy: string) => config(proxy).listeners.find((l) => l.name === 'virtualInbound')!
  const eps = (proxy: string, host: string) =>
    config(proxy)
      .endpoints.find((e) => e.clusterName === `outbound|9080||${host}.default.svc.cluster.local`)!
      .endpoints.map((e) => e.tlsMode)

  it('namespace STRICT over mesh PERMISSIVE; a workload UNSET inherits it, its port level wins on that port', () => {
    expect(inbound('productpage-sidecar').filterChains[0]!.mtls).toEqual({ mode: 'STRICT' })
    expect(inbound('productpage-sidecar').defaultFilterChain!.mtls).toEqual({ mode: 'STRICT' })
    expect(inbound('reviews-v2-sidecar').filterChains[0]!.mtls).toEqual({ mode: 'PERMISSIVE' })
    expect(inbound('reviews-v2-sidecar').defaultFilterChain!.mtls).toEqual({ mode: 'STRICT' })
  })

  it('tlsMode istio only for sidecar pods whose port is not DISABLE', () => {
    expect(eps('productpage-sidecar', 'reviews')).toEqual(['istio', 'istio', 'istio'])
    expect(eps('productpage-sidecar', 'ratings')).toEqual([undefined]) // PeerAuthentication DISABLE
    expect(eps('productpage-sidecar', 'details')).toEqual([undefined]) // no sidecar
  })

  it('without any PeerAuthentication every chain is PERMISSIVE', () => {
    const l = translate(bookinfoSnapshot([]), PROXIES['reviews-v2-sidecar']!).listeners.find(
      (x) => x.name === 'virtualInbound',
    )!
    expect([...l.filterChains, l.defaultFilterChain!].map((c) => c.mtls?.mode)).toEqual([
      'PERMISSIVE',
      'PERMISSIVE',
    ])
  })

  it('DestinationRule ISTIO_MUTUAL becomes cluster tls ISTIO_MUTUAL with its subjectAltNames', () => {
    const c = config('productpage-sidecar').clusters.find(
      (x) => x.name === 'outbound|9080||details.default.svc.cluster.local',
    )
    expect(c?.tls).toEqual({
      mode: 'ISTIO_MUTUAL',
      subjectAltNames: ['spiffe://cluster.local/ns/default/sa/bookinfo-details'],
    })
  })
})
