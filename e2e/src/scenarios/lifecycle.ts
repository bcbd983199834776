/**
 * Pod lifecycle with the sidecar (issue 18), on Bookinfo: Jobs whose container calls a meshed
 * service complete (native sidecar; classic sidecar told to exit by /quitquitquit), apps calling
 * out in their first millisecond never see a refused connection, and a rolling restart of reviews
 * under steady traffic loses no request. Registered after the other Bookinfo scenarios (it restarts
 * reviews) and before tracing (which installs the mesh again).
 */
import { describe, expect, it } from 'vitest'
import { countBy, loadPage, report } from '../bookinfo.ts'
import type { ClusterDriver } from '../driver.ts'
import { runJobs } from '../jobs.ts'

const NS = 'default'

export interface LifecycleSuiteState {
  driver: ClusterDriver
  gw: string
}

export function lifecycleScenarios(st: () => LifecycleSuiteState): void {
  describe(`Pod lifecycle with the sidecar (${process.env.E2E_DRIVER ?? 'local'} cluster)`, () => {
    it('L1. a Job whose container calls a meshed service completes: native sidecar, and classic with /quitquitquit', async () => {
      const url = 'http://details:9080/details/0'
      const runs = await runJobs(
        st().driver,
        NS,
        [
          { name: 'job-native', url, placement: 'native' },
          { name: 'job-classic', url, placement: 'classic' },
        ],
        2,
      )
      report('jobs', { runs: runs.map((r) => ({ name: r.name, outcome: r.outcome, log: r.log })) })
      expect(runs.map((r) => [r.name, r.outcome]).sort()).toEqual([
        ['job-classic', 'Complete'],
        ['job-native', 'Complete'],
      ])
    }, 240_000)

    it('L2. an app that calls out in its first millisecond never sees a refused connection (20 native + 10 classic starts)', async () => {
      const url = 'http://details:9080/details/0'
      const jobs = [
        ...Array.from({ length: 20 }, (_, i) => ({
          name: `first-ms-native-${i}`,
          url,
          placement: 'native' as const,
        })),
        ...Array.from({ length: 10 }, (_, i) => ({
          name: `first-ms-classic-${i}`,
          url,
          placement: 'classic' as const,
        })),
      ]
      const runs = await runJobs(st().driver, NS, jobs, 4)
      const failed = runs.filter((r) => r.outcome !== 'Complete')
      report('first-millisecond', {
        starts: runs.length,
        native: runs.filter((r) => r.placement === 'native').length,
        classic: runs.filter((r) => r.placement === 'classic').length,
        failures: failed.length,
        failed: failed.map((r) => `${r.name}: ${r.outcome}: ${r.log}`),
      })
      expect(runs).toHaveLength(30)
      expect(failed).toEqual([])
    }, 600_000)

    it('L3. a rolling restart of reviews (v1, v2, v3) under steady traffic loses no request', async () => {
      const loads: Awaited<ReturnType<typeof loadPage>>[] = []
      let stop = false
      const load = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (!stop) loads.push(await loadPage(st().gw))
        }),
      )
      await new Promise((r) => setTimeout(r, 1000))
      const before = (await st().driver.pods(NS, 'app=reviews')).map((p) => p.name)
      for (const v of ['v1', 'v2', 'v3']) {
        await st().driver.rolloutRestart(NS, `reviews-${v}`)
        await new Promise((r) => setTimeout(r, 500))
        await st().driver.waitReady(NS, `app=reviews,version=${v}`, 180_000)
      }
      await new Promise((r) => setTimeout(r, 2000))
      stop = true
      await load
      const after = (await st().driver.pods(NS, 'app=reviews')).map((p) => p.name)
      const failed = loads.filter((l) => l.status !== 200 || l.version !== 'v1')
      report('rolling-restart', {
        requests: loads.length,
        failed: failed.length,
        failures: countBy(failed.map((f) => ({ version: `${f.status}/${f.version}` }))),
      })
      expect(after.filter((n) => before.includes(n))).toEqual([])
      expect(loads.length).toBeGreaterThan(50)
      expect(failed).toEqual([])
    }, 600_000)
  })
}
