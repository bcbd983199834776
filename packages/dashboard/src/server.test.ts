// The dashboard over a real meshd (directory source): its rejected configuration with the reason,
// the page and its script served, the state streamed as Server-Sent Events.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Meshd, startMeshd } from '@minimesh/control-plane'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directEndpoints } from './access/http.ts'
import type { DashboardState } from './collector.ts'
import { type Dashboard, startDashboard } from './server.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')
let dir: string
let meshd: Meshd
let dash: Dashboard

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dashboard-test-'))
  mkdirSync(join(dir, 'networking'), { recursive: true })
  writeFileSync(
    join(dir, 'networking', 'dr.yaml'),
    readFileSync(join(ROOT, 'apps/bookinfo/kube/networking/destination-rule-all.yaml'), 'utf8').replace(
      /metadata:\n {2}name: (\S+)/g,
      'metadata:\n  name: $1\n  namespace: default',
    ),
  )
  writeFileSync(
    join(dir, 'networking', 'vs.yaml'),
    'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: default}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: v9}\n',
  )
  meshd = await startMeshd({
    configDir: dir,
    grpcAddress: '127.0.0.1:0',
    monitoringAddress: '127.0.0.1:0',
    webhookAddress: '127.0.0.1:0',
    processMetrics: false,
  })
  dash = await startDashboard({
    endpoints: directEndpoints({ meshd: `http://${meshd.addresses.monitoring}` }),
    intervalMs: 200,
  })
})

afterAll(async () => {
  await dash?.close()
  await meshd?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('startDashboard', () => {
  it('shows what meshd rejected and why, with no errors reaching meshd', async () => {
    const s = (await (await fetch(`${dash.url}api/state`)).json()) as DashboardState
    expect(s.errors).toEqual([])
    expect(s.metricsSource).toBe('proxies')
    const vs = s.rejected.find((r) => r.key === 'networking.istio.io/VirtualService/default/reviews')
    expect(vs?.servingPrevious).toBe(false)
    expect(vs?.reasons.join('\n')).toMatch(/subset "v9"/)
  })

  it('serves the page and its script', async () => {
    const html = await fetch(dash.url)
    expect(html.headers.get('content-type')).toMatch(/text\/html/)
    expect(await html.text()).toContain('<script src="app.js">')
    const js = await fetch(`${dash.url}app.js`)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    expect(await js.text()).toContain("new EventSource('api/events')")
  })

  it('streams the state after each refresh (Server-Sent Events)', async () => {
    const res = await fetch(`${dash.url}api/events`)
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    const reader = res.body!.getReader()
    const seen: string[] = []
    let text = ''
    while (seen.length < 2) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
      for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n')) {
        const ev = text.slice(0, i)
        text = text.slice(i + 2)
        const data = ev.split('\n').find((l) => l.startsWith('data: '))
        if (data) seen.push((JSON.parse(data.slice(6)) as DashboardState).at)
      }
    }
    await reader.cancel()
    expect(seen.length).toBe(2)
    expect(seen[1]! > seen[0]!).toBe(true)
  })
})
