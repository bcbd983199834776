import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatNodeId, TYPE_ORDER, TypeUrl } from '@minimesh/api'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Meshd, startMeshd } from './meshd.ts'
import { BOOKINFO_DIR } from './testdata/fixtures.ts'
import { TestProxy } from './testdata/xds-client.ts'

let dir: string
let meshd: Meshd
let proxy: TestProxy
const node = {
  id: formatNodeId('sidecar', '198.18.0.16', 'productpage-v1-54bb874995-d5nrg', 'default'),
  namespace: 'default',
  labels: { app: 'productpage', version: 'v1' },
}

/** Writes as the local cluster does: a temp file in the same directory, then rename. */
function writeAtomic(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

const reviewsVs = (weights: [number, number]) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: ${weights[0]}
    - destination: {host: reviews, subset: v2}
      weight: ${weights[1]}
`
const vsPath = () => join(dir, 'virtualservice', 'default', 'reviews.yaml')
const http = (path: string) => fetch(`http://${meshd.addresses.monitoring}${path}`)
const metric = async (name: string) => {
  const text = await (await http('/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith(name))
  return line ? Number(line.split(' ').at(-1)) : undefined
}
/** Polls `probe` until it returns a value (meshd rebuilds after its debounce window). */
async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 8000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
const reviewsWeights = () => {
  return proxy
    .virtualHosts<{ name: string; routes: { route?: { clusters: { weight: number }[] } }[] }>()
    .find((v) => v.name.startsWith('reviews.'))!
    .routes[0]!.route!.clusters.map((c) => c.weight)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshd-test-'))
  writeAtomic(
    join(dir, 'platform', 'bookinfo.yaml'),
    readFileSync(join(BOOKINFO_DIR, 'platform.yaml'), 'utf8'),
  )
  writeAtomic(
    join(dir, 'networking', 'dr.yaml'),
    readFileSync(join(BOOKINFO_DIR, 'destination-rule-all.yaml'), 'utf8'),
  )
  meshd = await startMeshd({
    configDir: dir,
    grpcAddress: '127.0.0.1:0',
    monitoringAddress: '127.0.0.1:0',
    webhookAddress: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    processMetrics: false,
    // A quiet window far above the 5 ms between the burst's writes, so a loaded machine's delays
    // (timers, file watch events) cannot split the burst; the default (100 ms) did under load 30.
    debounce: { quietMs: 1000 },
  })
  proxy = new TestProxy(meshd.addresses.grpc, node)
  await proxy.until(() => TYPE_ORDER.every((t) => proxy.of(t).length > 0))
})

afterAll(async () => {
  proxy?.close()
  await meshd?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('meshd over a watched directory', () => {
  it('is ready and serves the debug pages', async () => {
    expect((await http('/healthz/ready')).status).toBe(200)
    const registry = (await (await http('/debug/registryz')).json()) as {
      hostname: string
      ports: { endpoints: unknown[] }[]
    }[]
    expect(registry.map((s) => s.hostname)).toEqual([
      'details.default.svc.cluster.local',
      'productpage.default.svc.cluster.local',
      'ratings.default.svc.cluster.local',
      'reviews.default.svc.cluster.local',
    ])
    expect(registry[3]!.ports[0]!.endpoints.length).toBe(3)
    await proxy.until(() => proxy.received.length >= 4)
    const sync = (await (await http('/debug/syncz')).json()) as { proxy: string; snapshot: number | null }[]
    expect(sync.map((s) => s.proxy)).toEqual([node.id])
    const configz = (await (await http('/debug/configz')).json()) as { snapshot: { version: number } }
    expect(sync[0]!.snapshot).toBe(configz.snapshot.version)
    const dump = (await (await http(`/debug/config_dump?proxy=${encodeURIComponent(node.id)}`)).json()) as {
      clusters: { name: string }[]
    }
    expect(dump.clusters.map((c) => c.name)).toContain('outbound|9080|v2|reviews.default.svc.cluster.local')
    expect((await http('/debug/config_dump?proxy=sidecar~1.2.3.4~x.y~y.svc.cluster.local')).status).toBe(404)
    expect(await metric('meshd_xds_connected_proxies')).toBe(1)
  })

  it('coalesces a burst of changes into one snapshot and one push', async () => {
    const snapshots = (await metric('meshd_snapshots_total'))!
    const routes = proxy.of(TypeUrl.VirtualHost).length
    for (let i = 1; i <= 9; i++) {
      writeAtomic(vsPath(), reviewsVs([100 - i * 10, i * 10]))
      await new Promise((r) => setTimeout(r, 5))
    }
    await proxy.until(() => proxy.of(TypeUrl.VirtualHost).length > routes, 8000, 'the push')
    await new Promise((r) => setTimeout(r, 1500))
    expect(await metric('meshd_snapshots_total')).toBe(snapshots + 1)
    expect(proxy.of(TypeUrl.VirtualHost).length).toBe(routes + 1)
    expect(reviewsWeights()).toEqual([10, 90])
  })

  it('rejects a bad new version, keeps serving the previous one, and says why', async () => {
    const routes = proxy.of(TypeUrl.VirtualHost).length
    writeAtomic(vsPath(), reviewsVs([10, 90]).replace('hosts: [reviews]', 'hosts: [reviews]\n  tcp: []'))
    type Status = { key: string; state: string; servingPrevious?: boolean; findings: { text: string }[] }
    const status = await eventually(async () => {
      const configz = (await (await http('/debug/configz?rejected=1')).json()) as { objects: Status[] }
      const s = configz.objects.find((o) => o.key === 'networking.istio.io/VirtualService/default/reviews')
      return s?.state === 'rejected' ? s : undefined
    }, 'the rejection in /debug/configz')
    expect(status?.state).toBe('rejected')
    expect(status?.servingPrevious).toBe(true)
    expect(status?.findings[0]?.text).toMatch(/spec\.tcp.*not implemented/)
    expect(await metric('meshd_config_errors{kind="VirtualService"}')).toBe(1)
    expect(proxy.of(TypeUrl.VirtualHost).length).toBe(routes)
    expect(reviewsWeights()).toEqual([10, 90])
    // Fixed: served again.
    writeAtomic(vsPath(), reviewsVs([50, 50]))
    await proxy.until(() => proxy.of(TypeUrl.VirtualHost).length > routes, 8000, 'the fixed routes')
    expect(reviewsWeights()).toEqual([50, 50])
  })

  it('reports a file that does not parse, keeping its objects; removes objects of a deleted file', async () => {
    writeAtomic(vsPath(), 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: [\n')
    type Files = { files: { origin: string; findings: unknown[] }[] }
    const configz = await eventually(async () => {
      const c = (await (await http('/debug/configz')).json()) as Files
      return c.files.length > 0 ? c : undefined
    }, 'the unparsable file in /debug/configz')
    expect(configz.files.map((f) => f.origin)).toEqual([vsPath()])
    expect(reviewsWeights()).toEqual([50, 50])
    const routes = proxy.of(TypeUrl.VirtualHost).length
    rmSync(vsPath())
    await proxy.until(
      () => proxy.of(TypeUrl.VirtualHost).length > routes,
      8000,
      'routes without the VirtualService',
    )
    expect(reviewsWeights()).toEqual([100])
    const after = (await (await http('/debug/configz')).json()) as { files: unknown[] }
    expect(after.files).toEqual([])
  })
})
