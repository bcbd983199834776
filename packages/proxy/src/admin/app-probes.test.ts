import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import { startTestProxy } from '../testdata/harness.ts'
import { parseAppProbers } from './app-probes.ts'

describe('kubelet probes rewritten to /app-health on the status port', () => {
  let app: http.Server
  let appPort: number
  let ready = false
  let proxy: RunningProxy
  beforeAll(async () => {
    app = http.createServer((req, res) => res.writeHead(req.url === '/ready' && ready ? 200 : 503).end())
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r))
    appPort = (app.address() as AddressInfo).port
    proxy = await startTestProxy(undefined, {
      appProbers: parseAppProbers(
        JSON.stringify({
          '/app-health/web/readyz': {
            httpGet: { path: '/ready', port: appPort, scheme: 'HTTP' },
            timeoutSeconds: 1,
          },
          '/app-health/web/livez': { tcpSocket: { port: appPort }, timeoutSeconds: 1 },
          '/app-health/gone/livez': { tcpSocket: { port: 1 }, timeoutSeconds: 1 },
        }),
      ),
    })
  })
  afterAll(async () => {
    await proxy.close()
    app.close()
  })
  const get = async (path: string) => (await fetch(`http://127.0.0.1:${proxy.ports.stats}${path}`)).status

  it("answers with the app's own readiness", async () => {
    expect(await get('/app-health/web/readyz')).toBe(503)
    ready = true
    expect(await get('/app-health/web/readyz')).toBe(200)
  })
  it('tcp probes pass when the app accepts and fail when nothing listens', async () => {
    expect(await get('/app-health/web/livez')).toBe(200)
    expect(await get('/app-health/gone/livez')).toBe(503)
  })
  it('rejects a malformed MESH_KUBE_APP_PROBERS naming the variable', () => {
    expect(() => parseAppProbers('{nope')).toThrow(/MESH_KUBE_APP_PROBERS is not JSON/)
    expect(() => parseAppProbers('{"/x": {}}')).toThrow(/MESH_KUBE_APP_PROBERS\["\/x"\]/)
  })
})
