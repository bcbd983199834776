/**
 * Pod lifecycle with the sidecar (issue 18): Jobs whose container calls a meshed service the moment
 * it starts, in both placements. Native: the proxy is an init container with restartPolicy Always,
 * ready before the app starts and stopped after it, so the Job completes by itself. Classic: the
 * proxy is the first container and its postStart hook holds the app until it is ready; the app
 * tells it to exit with POST 127.0.0.1:15020/quitquitquit when it is done (Istio's recipe).
 */
import { stringify } from 'yaml'
import type { ClusterDriver, JobStatus } from './driver.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The container's script: the call is its first statement; the exit code says how it went. */
function script(url: string, quit: boolean): string {
  const done = quit
    ? "await fetch('http://127.0.0.1:15020/quitquitquit',{method:'POST'}).then((q)=>console.log('quitquitquit',q.status),(e)=>console.log('quitquitquit failed',String(e)))"
    : ''
  return [
    'const t0=performance.now()',
    `const r=await fetch(${JSON.stringify(url)}).then((r)=>r.status,(e)=>String(e.cause?.code??e.cause??e))`,
    'console.log(JSON.stringify({result:r,ms:Math.round(performance.now()-t0)}))',
    done,
    'process.exit(r===200?0:1)',
  ]
    .filter(Boolean)
    .join(';')
}

export type Placement = 'native' | 'classic'

/** A Job that calls `url` at once and exits 0 on a 200 (no retries: backoffLimit 0). */
function callerJob(name: string, url: string, placement: Placement): string {
  return stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { test: 'lifecycle' } },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: {
          labels: { app: name, test: 'lifecycle' },
          annotations: { 'sidecar.minimesh.dev/nativeSidecar': placement === 'native' ? 'true' : 'false' },
        },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name: 'call',
              image: 'minimesh/proxy:0.1.0',
              command: ['node', '--input-type=module', '-e', script(url, placement === 'classic')],
            },
          ],
        },
      },
    },
  })
}

export interface JobRun {
  name: string
  placement: Placement
  outcome: 'Complete' | 'Failed' | 'timeout'
  /** What the container printed (its call's result and how long it took). */
  log: string
}

const finished = (s: JobStatus | undefined) =>
  s?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type as
    | 'Complete'
    | 'Failed'
    | undefined

/** Runs the Jobs `concurrency` at a time; each is deleted once it has finished (its log kept). */
export async function runJobs(
  driver: ClusterDriver,
  namespace: string,
  jobs: { name: string; url: string; placement: Placement }[],
  concurrency: number,
  timeoutMs = 90_000,
): Promise<JobRun[]> {
  const out: JobRun[] = []
  let next = 0
  const one = async (j: (typeof jobs)[number]) => {
    const yaml = callerJob(j.name, j.url, j.placement)
    await driver.apply(yaml, namespace)
    const until = Date.now() + timeoutMs
    let outcome: JobRun['outcome'] = 'timeout'
    while (Date.now() < until) {
      const f = finished(await driver.jobStatus(namespace, j.name))
      if (f) {
        outcome = f
        break
      }
      await sleep(250)
    }
    const [pod] = await driver.pods(namespace, `job-name=${j.name}`)
    const log = pod ? await driver.logs(pod, 'call').catch((e) => `no log: ${e}`) : 'no pod'
    out.push({ name: j.name, placement: j.placement, outcome, log: log.trim() })
    await driver.delete(yaml, namespace)
  }
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) await one(jobs[next++]!)
    }),
  )
  return out
}
