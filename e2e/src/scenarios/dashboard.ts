/**
 * The observability addons on Bookinfo under traffic: the Prometheus addon answers
 * minimesh_requests_total by workload and scrapes meshd; `meshctl dashboard` shown in headless
 * Chromium (Debian's package, driven by playwright-core) draws the expected edges with their rates,
 * a 90/10 split as two edges in about that ratio (binomial test), and a VirtualService meshd
 * rejected with its reason; it updates without a reload. Screenshots go to e2e/artifacts/
 * (gitignored), named after the cluster. Registered from bookinfo.e2e.ts, on the same cluster.
 * - local cluster: the addon's scrape jobs run by Debian's prometheus, which launchDashboard starts
 *   (the dashboard in this process);
 * - Kubernetes: apps/addons/prometheus.yaml applied as it is, but for its image where the cluster
 *   is kube/cluster.sh's (no registry: minimesh.local/prometheus:<its tag>, that Prometheus built
 *   from source by kube/lib/build.sh; Debian's is built without kubernetes_sd); the dashboard is
 *   the `meshctl dashboard --kube --prometheus` command, a child process, reading meshd, the
 *   proxies and the addon through the API server's proxy.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '@minimesh/cli'
import { type HttpGet, kubeEndpoints, launchDashboard, promQuery } from '@minimesh/dashboard'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { binomialTestPValue } from '../binomial.ts'
import { fixture, loadPage, report, sample } from '../bookinfo.ts'
import type { ClusterDriver, PodRef } from '../driver.ts'
import type { KubeClusterTarget } from '../drivers/kube.ts'

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

/**
 * The Prometheus addon's image on kube/cluster.sh's cluster, for the manifest's prom/prometheus:<tag>
 * (kube/lib/common.sh's PROMETHEUS_IMAGE: that version built from source, as no registry can be
 * reached there).
 */
const KUBE_PROMETHEUS_IMAGE = 'minimesh.local/prometheus'
const MESH_NS = 'minimesh-system'

/** A running dashboard: its URL, and how to stop it. */
interface RunningDashboard {
  url: string
  close(): Promise<void>
}

/** Where Prometheus answers and how to GET from it (through the API server on Kubernetes). */
interface PrometheusAccess {
  url: string
  get: HttpGet
}

/** The addon manifest as this cluster can run it. */
function addonManifest(driver: string): string {
  const yaml = readFileSync(join(repoRoot(), 'apps/addons/prometheus.yaml'), 'utf8')
  if (driver !== 'kube') return yaml
  const out = yaml.replace(/image: prom\/prometheus:(\S+)/, `image: ${KUBE_PROMETHEUS_IMAGE}:$1`)
  if (out === yaml) throw new Error('apps/addons/prometheus.yaml names no prom/prometheus image to replace')
  return out
}

/**
 * `meshctl dashboard --kube --prometheus` as a user runs it, on a free port; resolves once it
 * prints its URL.
 */
async function meshctlDashboard(target: KubeClusterTarget, window: number): Promise<RunningDashboard> {
  const args = ['dashboard', '--kube', '--context', target.context, '--prometheus', '--port', '0']
  if (target.kubeconfig) args.push('--kubeconfig', target.kubeconfig)
  args.push('--window', String(window), '--no-open')
  const child: ChildProcess = spawn(join(repoRoot(), 'meshctl'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' },
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`meshctl dashboard printed no URL in 60 s:\n${output}`)),
      60_000,
    )
    const read = (c: Buffer) => {
      output += c.toString()
      const m = /^dashboard: (http:\/\/\S+)/m.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`meshctl dashboard exited ${code}:\n${output}`))
    })
  })
  console.log(`[dashboard] ${output.trim()}`)
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      }),
  }
}

interface EdgeView {
  source: string
  destination: string
  rps: number
  mtls: boolean
}

export function dashboardScenarios(state: () => DashboardSuiteState): void {
  const driverName = process.env.E2E_DRIVER ?? 'local'
  const local = driverName === 'local'
  const why = !existsSync(CHROMIUM) ? `no ${CHROMIUM}: run scripts/ensure-host-deps.sh as root` : undefined
  if (why) console.log(`dashboard scenarios skipped: ${why}`)
  /** The Kubernetes driver's cluster (kubeconfig, context). */
  const kubeTarget = () => (state().driver as { target?: KubeClusterTarget }).target!

  describe.skipIf(why !== undefined)(
    `Observability: Prometheus addon and dashboard (${driverName} cluster)`,
    () => {
      let dash: RunningDashboard | undefined
      let prom: PrometheusAccess | undefined
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
        if (!local) await s.driver.delete(addonManifest(driverName), MESH_NS)
        await s.driver.waitConfigPropagated()
      }, 60_000)

      it('1. under a 90/10 split, Prometheus (the addon) has minimesh_requests_total by workload and scrapes meshd', async () => {
        const { driver, gw } = state()
        await driver.apply(sample('networking/virtual-service-all-v1.yaml'), NS)
        await driver.apply(sample('networking/virtual-service-reviews-90-10.yaml'), NS)
        await driver.waitConfigPropagated()
        if (local) {
          const launched = await launchDashboard({
            target: 'local',
            runDir: RUN_DIR,
            prometheus: 'addon',
            port: 0,
            windowSeconds: WINDOW_S,
            intervalMs: 1000,
          })
          dash = launched
          prom = { url: launched.endpoints.prometheus!, get: launched.endpoints.get }
        } else {
          await driver.apply(addonManifest(driverName), MESH_NS)
          await driver.waitReady(MESH_NS, 'app=prometheus', 180_000)
          dash = await meshctlDashboard(kubeTarget(), WINDOW_S)
          const { kubeconfig, context } = kubeTarget()
          const endpoints = kubeEndpoints({
            ...(kubeconfig ? { kubeconfig } : {}),
            context,
            prometheus: true,
          })
          prom = { url: endpoints.prometheus!, get: endpoints.get }
        }
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
        const { url, get } = prom
        let byWorkload: Record<string, number> = {}
        let up: Awaited<ReturnType<typeof promQuery>> = []
        const jobs = (job: string) => up.filter((u) => u.metric.job === job)
        const deadline = Date.now() + 90_000
        while (Date.now() < deadline) {
          // A target is in `up` only after its first scrape: wait for all of them, not only for
          // the workloads' request counts (on the local cluster meshd and two sidecars came later).
          up = await promQuery(get, url, 'up').catch(() => [])
          const r = await promQuery(
            get,
            url,
            'sum by (destination_workload) (minimesh_requests_total{reporter="destination"})',
          ).catch(() => [])
          byWorkload = Object.fromEntries(
            r.map((x) => [x.metric.destination_workload ?? '', Number(x.value[1])]),
          )
          if (
            ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'ratings-v1'].every(
              (w) => (byWorkload[w] ?? 0) > 0,
            ) &&
            jobs('minimesh-proxies').length >= 7 &&
            jobs('minimesh-meshd').length > 0
          )
            break
          await new Promise((r) => setTimeout(r, 2000))
        }
        up = await promQuery(get, url, 'up')
        report('prometheus-addon', {
          cluster: driverName,
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
        const meshd = await promQuery(get, url, 'meshd_snapshots_total')
        expect(meshd.length).toBeGreaterThan(0)
      }, 360_000)

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
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-${driverName}.png`), fullPage: true })
        await page
          .locator('#graph')
          .screenshot({ path: join(ARTIFACTS, `dashboard-graph-${driverName}.png`) })
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
          cluster: driverName,
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
        const { kubeconfig, context } = local ? {} : kubeTarget()
        const direct = await launchDashboard({
          ...(local
            ? { target: 'local' as const, runDir: RUN_DIR }
            : { target: 'kube' as const, context, ...(kubeconfig ? { kubeconfig } : {}) }),
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
