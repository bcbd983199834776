/**
 * The observability addons on Bookinfo under traffic (local cluster): the Prometheus addon run from
 * Debian's prometheus with the manifest's scrape jobs answers minimesh_requests_total by workload
 * and scrapes meshd; `meshctl dashboard` (launchDashboard) shown in headless Chromium (Debian's
 * package, driven by playwright-core) draws the expected edges with their rates, a 90/10 split as
 * two edges in about that ratio (binomial test), and a VirtualService meshd rejected with its
 * reason; it updates without a reload. Screenshots go to e2e/artifacts/ (gitignored).
 * Registered from bookinfo.e2e.ts, on the same cluster.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Launched, launchDashboard, promQuery } from '@minimesh/dashboard'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { binomialTestPValue } from '../binomial.ts'
import { fixture, loadPage, report, sample } from '../bookinfo.ts'
import type { ClusterDriver, PodRef } from '../driver.ts'

const NS = 'default'
const SIGNIFICANCE = 0.001
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'artifacts')
const RUN_DIR = process.env.MINIMESH_E2E_RUN_DIR ?? '/var/run/minimesh-e2e'
const WINDOW_S = 20

export interface DashboardSuiteState {
  driver: ClusterDriver
  gw: string
  productpage: PodRef
}

interface EdgeView {
  source: string
  destination: string
  rps: number
  mtls: boolean
}

export function dashboardScenarios(state: () => DashboardSuiteState): void {
  const local = (process.env.E2E_DRIVER ?? 'local') === 'local'
  const why = !local
    ? 'the addons scenario runs on the local cluster (Debian prometheus, chromium on this host)'
    : !existsSync(CHROMIUM)
      ? `no ${CHROMIUM}: run scripts/ensure-host-deps.sh as root`
      : undefined
  if (why) console.log(`dashboard scenarios skipped: ${why}`)

  describe.skipIf(why !== undefined)(
    `Observability: Prometheus addon and dashboard (${process.env.E2E_DRIVER ?? 'local'} cluster)`,
    () => {
      let dash: Launched | undefined
      let browser: Browser | undefined
      let stop = false
      let traffic: Promise<number[]> | undefined

      afterAll(async () => {
        stop = true
        await traffic
        await browser?.close()
        await dash?.close()
        const s = state()
        await s.driver.apply(sample('networking/virtual-service-all-v1.yaml'), NS)
        await s.driver.waitConfigPropagated()
      }, 60_000)

      it('1. under a 90/10 split, Prometheus (the addon) has minimesh_requests_total by workload and scrapes meshd', async () => {
        const { driver, gw } = state()
        await driver.apply(sample('networking/virtual-service-all-v1.yaml'), NS)
        await driver.apply(sample('networking/virtual-service-reviews-90-10.yaml'), NS)
        await driver.waitConfigPropagated()
        dash = await launchDashboard({
          target: 'local',
          runDir: RUN_DIR,
          prometheus: 'addon',
          port: 0,
          windowSeconds: WINDOW_S,
          intervalMs: 1000,
        })
        // Traffic until the suite is done: 4 clients through the gateway.
        traffic = Promise.all(
          Array.from({ length: 4 }, async () => {
            let n = 0
            while (!stop) {
              await loadPage(gw).catch(() => {})
              n++
            }
            return n
          }),
        )
        const prom = dash.prometheus!.url
        const get = async (url: string) => (await fetch(url)).text()
        let byWorkload: Record<string, number> = {}
        const deadline = Date.now() + 60_000
        while (Date.now() < deadline) {
          const r = await promQuery(
            get,
            prom,
            'sum by (destination_workload) (minimesh_requests_total{reporter="destination"})',
          )
          byWorkload = Object.fromEntries(
            r.map((x) => [x.metric.destination_workload ?? '', Number(x.value[1])]),
          )
          if (
            ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'ratings-v1'].every(
              (w) => (byWorkload[w] ?? 0) > 0,
            )
          )
            break
          await new Promise((r) => setTimeout(r, 2000))
        }
        const up = await promQuery(get, prom, 'up')
        const jobs = (job: string) => up.filter((u) => u.metric.job === job)
        report('prometheus-addon', {
          requests_by_workload: byWorkload,
          proxies_up: `${jobs('minimesh-proxies').filter((u) => u.value[1] === '1').length}/${jobs('minimesh-proxies').length}`,
          meshd_up: jobs('minimesh-meshd').map((u) => u.value[1]),
        })
        for (const w of ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'ratings-v1'])
          expect(byWorkload[w], w).toBeGreaterThan(0)
        // Bookinfo's 6 sidecars (reviews v1, v2, v3) and the gateway, each scraped once, all up.
        expect(jobs('minimesh-proxies').length).toBeGreaterThanOrEqual(7)
        expect(jobs('minimesh-proxies').every((u) => u.value[1] === '1')).toBe(true)
        expect(jobs('minimesh-meshd').map((u) => u.value[1])).toEqual(['1'])
        const meshd = await promQuery(get, prom, 'meshd_snapshots_total')
        expect(meshd.length).toBeGreaterThan(0)
      }, 120_000)

      it('2. the dashboard in Chromium: the graph with rates, the 90/10 split, a rejected VirtualService with its reason, live updates', async () => {
        const { driver } = state()
        expect(dash).toBeDefined()
        await driver.apply(fixture('vs-details-unknown-subset.yaml'), NS)
        mkdirSync(ARTIFACTS, { recursive: true })
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
        const consoleErrors: string[] = []
        page.on('pageerror', (e) => consoleErrors.push(String(e)))
        await page.goto(dash!.url)
        const readEdges = () =>
          page.$$eval('#graph [data-edge]', (els) =>
            els.map((el) => ({
              source: el.getAttribute('data-source') ?? '',
              destination: el.getAttribute('data-destination') ?? '',
              rps: Number(el.getAttribute('data-rps')),
              mtls: el.getAttribute('data-mtls') === 'true',
            })),
          )
        // A full window of the split's traffic in the rates, and the rejected object listed.
        // (Browser-side code as strings: this package's types have no DOM.)
        await page.waitForFunction(
          `[...document.querySelectorAll('#graph [data-edge]')].some((el) => el.getAttribute('data-destination') === 'reviews-v2' && Number(el.getAttribute('data-rps')) > 0) && document.querySelector('#rejected [data-rejected$="VirtualService/default/details"]') !== null`,
          undefined,
          { timeout: 90_000, polling: 500 },
        )
        await new Promise((r) => setTimeout(r, WINDOW_S * 1000))
        const updated = await page.evaluate('document.body.dataset.updated')
        const edges: EdgeView[] = await readEdges()
        const rejected = await page.$$eval('#rejected [data-rejected]', (els) =>
          els.map((el) => el.textContent ?? ''),
        )
        const proxies = await page.$$eval('#proxies tbody tr', (els) => els.length)
        const workloads = await page.$$eval('#workloads tbody tr', (els) =>
          els.map((el) => el.getAttribute('data-workload')),
        )
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true })
        await page.locator('#graph').screenshot({ path: join(ARTIFACTS, 'dashboard-graph.png') })
        // Live: the page changes without a reload.
        await page.waitForFunction(
          `document.body.dataset.updated !== ${JSON.stringify(updated)}`,
          undefined,
          {
            timeout: 10_000,
          },
        )

        const edge = (s: string, d: string) => edges.find((e) => e.source === s && e.destination === d)
        const v1 = edge('productpage-v1', 'reviews-v1')?.rps ?? 0
        const v2 = edge('productpage-v1', 'reviews-v2')?.rps ?? 0
        // Rates over the window back to request counts for a binomial test of the split.
        const n = Math.round((v1 + v2) * WINDOW_S)
        const k = Math.round(v2 * WINDOW_S)
        const p = binomialTestPValue(k, n, 0.1)
        const wrong = binomialTestPValue(k, n, 0.5)
        report('dashboard', {
          edges: edges.map(
            (e) => `${e.source}->${e.destination} ${e.rps.toFixed(2)}/s${e.mtls ? ' mTLS' : ''}`,
          ),
          split: { v1_rps: v1, v2_rps: v2, share_v2: v2 / (v1 + v2), n, p, wrong },
          rejected,
          proxies,
          workloads,
        })
        for (const [s, d] of [
          ['minimesh-ingressgateway', 'productpage-v1'],
          ['productpage-v1', 'details-v1'],
          ['productpage-v1', 'reviews-v1'],
          ['productpage-v1', 'reviews-v2'],
          ['reviews-v2', 'ratings-v1'],
        ] as const)
          expect(edge(s, d)?.rps ?? 0, `${s} -> ${d}`).toBeGreaterThan(0)
        // all-v1 plus 90/10: reviews v3 gets nothing.
        expect(edge('productpage-v1', 'reviews-v3')?.rps ?? 0).toBe(0)
        expect(n).toBeGreaterThan(100)
        expect(p).toBeGreaterThan(SIGNIFICANCE)
        expect(wrong).toBeLessThan(SIGNIFICANCE)
        expect(rejected.join('\n')).toMatch(/VirtualService default\/details/)
        expect(rejected.join('\n')).toMatch(/subset "v9"/)
        expect(proxies).toBeGreaterThanOrEqual(7)
        expect(workloads).toContain('reviews-v2')
        expect(consoleErrors).toEqual([])
      }, 240_000)

      it('3. without Prometheus the dashboard scrapes the proxies itself and sees the same edges', async () => {
        const direct = await launchDashboard({
          target: 'local',
          runDir: RUN_DIR,
          prometheus: 'off',
          port: 0,
          windowSeconds: 10,
          intervalMs: 1000,
        })
        try {
          await new Promise((r) => setTimeout(r, 6000))
          const s = direct.state()!
          const edges = s.graph.edges.filter((e) => e.rps > 0).map((e) => `${e.source}->${e.destination}`)
          report('dashboard-direct', { source: s.metricsSource, edges, errors: s.errors })
          expect(s.metricsSource).toBe('proxies')
          expect(s.errors).toEqual([])
          for (const e of [
            'productpage-v1->reviews-v1',
            'productpage-v1->details-v1',
            'minimesh-ingressgateway->productpage-v1',
          ])
            expect(edges).toContain(e)
        } finally {
          await direct.close()
        }
      }, 60_000)
    },
  )
}
