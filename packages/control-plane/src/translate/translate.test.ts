import { TypeUrl, validateProxyResource } from '@minimesh/api'
import { expectGolden, expectNoStaleGoldens, jsonDiff } from '@minimesh/api/testing'
import { describe, expect, it } from 'vitest'
import { bookinfoSnapshot, PROXIES, SCENARIOS } from '../testdata/fixtures.ts'
import { type ProxyConfig, translate } from './index.ts'

// The goldens: base.json, the full configuration of one proxy with no routing rules; for every
// scenario, <scenario>.diff: what the scenario changes, per proxy, against the step before it (the
// scenario whose files are the longest prefix of its own, as Istio's tasks apply them one after the
// other; no-rules for the first steps, and for no-rules itself: how the other proxies differ from
// base.json). The diffs are exact, so any change to a translated configuration fails here.
const GOLDEN = new URL('../testdata/golden/', import.meta.url)
const BASE_SCENARIO = 'no-rules'
const BASE_PROXY = 'productpage-sidecar'

/** The scenario a scenario adds to: the longest other file list that begins its own. */
function stepBefore(scenario: string): string {
  const files = SCENARIOS[scenario]!
  let best = BASE_SCENARIO
  for (const [name, other] of Object.entries(SCENARIOS))
    if (
      other.length < files.length &&
      other.length > SCENARIOS[best]!.length &&
      other.every((f, i) => files[i] === f)
    )
      best = name
  return best
}

describe('golden translation of Bookinfo under Istio task configs', () => {
  const translated = new Map<string, Record<string, ProxyConfig>>()
  const configsOf = (scenario: string) => {
    if (!translated.has(scenario)) {
      const snapshot = bookinfoSnapshot(SCENARIOS[scenario]!)
      translated.set(
        scenario,
        Object.fromEntries(
          Object.entries(PROXIES).map(([name, proxy]) => [name, translate(snapshot, proxy)]),
        ),
      )
    }
    return translated.get(scenario)!
  }
  const unruled = configsOf(BASE_SCENARIO)

  it(`base: ${BASE_PROXY} under ${BASE_SCENARIO}, in full`, () => {
    expectGolden(new URL('base.json', GOLDEN), `${JSON.stringify(unruled[BASE_PROXY], null, 2)}\n`)
  })

  for (const [scenario, files] of Object.entries(SCENARIOS)) {
    describe(scenario, () => {
      const snapshot = bookinfoSnapshot(files)
      const configs = configsOf(scenario)

      it('accepts every object of the scenario', () => {
        expect(snapshot.status.filter((s) => s.state === 'rejected')).toEqual([])
      })

      it('sends only what the proxy accepts', () => {
        for (const config of Object.values(configs))
          for (const [type, list] of [
            [TypeUrl.Cluster, config.clusters],
            [TypeUrl.ClusterLoadAssignment, config.endpoints],
            [TypeUrl.Listener, config.listeners],
            [TypeUrl.RouteConfiguration, config.routes],
            [TypeUrl.Secret, config.secrets ?? []],
          ] as const)
            for (const r of list) expect(validateProxyResource(type, r)).toEqual([])
      })

      it('changes what its golden diff says', () => {
        const before = stepBefore(scenario)
        const against = scenario === BASE_SCENARIO ? 'base.json' : `each proxy under ${before}`
        const shown = new Map<string, string>()
        const sections = Object.entries(configs).map(([name, config]) => {
          const base = scenario === BASE_SCENARIO ? unruled[BASE_PROXY] : configsOf(before)[name]
          const diff = jsonDiff(base, config) || '(no change)\n'
          const same = shown.get(diff)
          shown.set(diff, shown.get(diff) ?? name)
          return `## ${name}\n${same ? `(the same as ${same})\n` : diff}`
        })
        const text = `# ${scenario}: the translated configuration against ${against} (UPDATE_GOLDEN=1 rewrites)\n\n${sections.join('\n')}`
        expectGolden(new URL(`${scenario}.diff`, GOLDEN), text)
      })
    })
  }

  it('has no golden file that no case writes', () => {
    expectNoStaleGoldens(GOLDEN, ['.json', '.diff'])
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
