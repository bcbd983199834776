// meshctl local as a user types it: up (bare), apply -f, get, logs, exec, delete, a refused
// apply, down — each a separate runCli call against the background supervisor. Runs the real
// Bookinfo details app from the checkout's image table, on its own bridge and ranges.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from '../run.ts'

function canRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (CAP_NET_ADMIN) for network namespaces'
  try {
    execFileSync('sh', ['-c', 'command -v ip && command -v iptables && command -v setpriv'])
  } catch {
    return 'ip, iptables or setpriv is not installed'
  }
  return undefined
}
const skip = canRun()

const manifests = `apiVersion: v1
kind: Namespace
metadata: {name: cli}
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: cli}
spec:
  selector: {app: details}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: details-v1, namespace: cli}
spec:
  selector: {matchLabels: {app: details}}
  template:
    metadata: {labels: {app: details, version: v1}}
    spec:
      containers:
      - name: details
        image: minimesh/bookinfo-details:0.1.0
        ports: [{containerPort: 9080}]
        readinessProbe: {tcpSocket: {port: 9080}, periodSeconds: 1}
`

describe.skipIf(skip)(skip ? `meshctl local (skipped: ${skip})` : 'meshctl local', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-cli-'))
  const runDir = join(dir, 'run')
  const file = join(dir, 'details.yaml')
  writeFileSync(file, manifests)
  const run = async (...args: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const dash = args.includes('--') ? args.indexOf('--') : args.length
    const argv = [...args.slice(0, dash), '--run-dir', runDir, ...args.slice(dash)]
    const code = await runCli(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      stdin: process.stdin,
      cwd: dir,
    })
    return { code, out: out.join(''), err: err.join('') }
  }

  afterAll(async () => {
    await run('local', 'down')
    rmSync(dir, { recursive: true, force: true })
  })

  it('up, apply, wait, get, logs, exec, delete, down', async () => {
    const up = await run(
      'local',
      'up',
      '--bare',
      '--bridge',
      'mmt5',
      '--pod-cidr',
      '198.18.205.0/24',
      '--service-cidr',
      '198.19.205.0/24',
    )
    expect(up.err).toBe('')
    expect(up.out).toMatch(/supervisor running \(pid \d+\); bridge mmt5 198\.18\.205\.1/)
    expect((await run('local', 'up', '--bare')).out).toMatch(/already running/)
    const applied = await run('local', 'apply', '-f', 'details.yaml')
    expect(applied.out).toBe(
      'namespace/cli created\nservice/details created\ndeployment/details-v1 created\n',
    )
    expect((await run('local', 'apply', '-f', file)).out).toMatch(/deployment\/details-v1 unchanged/)
    expect((await run('local', 'wait', '-n', 'cli', '--timeout', '30s')).code).toBe(0)
    const pods = await run('local', 'get', 'pods', '-n', 'cli', '-o', 'wide')
    expect(pods.out).toMatch(
      /^NAME +READY +STATUS +RESTARTS +AGE +IP\ndetails-v1-\S+ +1\/1 +Running +0 +\S+ +198\.18\.205\.\d+\n$/,
    )
    const pod = /details-v1-\S+/.exec(pods.out)![0]
    // meshctl get and apply are the same commands on the local cluster (--local, or when it runs).
    expect((await run('get', 'pods', '-n', 'cli', '-o', 'wide', '--local')).out).toBe(pods.out)
    writeFileSync(
      join(dir, 'vs.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: details, namespace: cli}\nspec:\n  hosts: [details]\n  http: [{route: [{destination: {host: details}}]}]\n',
    )
    const vs = await run('apply', '-f', 'vs.yaml')
    expect(vs.out).toBe('virtualservice/details created\n')
    // A bare cluster runs no meshd: nothing says what became of it, and get says so.
    expect(vs.err).toMatch(/^Note: could not check with meshd whether it accepted them: cannot reach meshd/)
    expect((await run('get', 'vs', '-n', 'cli')).out).toMatch(
      /^NAME +AGE +STATUS\ndetails +\S+ +Unknown: no status yet \(is meshd running and reading this cluster\?\)\n$/,
    )
    expect((await run('local', 'get', 'svc', '-A')).out).toMatch(
      /cli +details +ClusterIP +198\.19\.205\.\d+ +<none> +9080\/TCP/,
    )
    expect((await run('local', 'get', 'deploy', 'details-v1', '-n', 'cli', '-o', 'json')).out).toMatch(
      /"readyReplicas": 1/,
    )
    expect((await run('local', 'logs', pod, '-n', 'cli')).out).toMatch(/listening/)
    expect(
      (
        await run(
          'local',
          'exec',
          pod,
          '-n',
          'cli',
          '--',
          'sh',
          '-c',
          'grep -q "details.cli.svc.cluster.local" /etc/hosts && exit 7',
        )
      ).code,
    ).toBe(7)
    writeFileSync(
      join(dir, 'job.yaml'),
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: j, namespace: cli}\n',
    )
    const refused = await run('local', 'apply', '-f', 'job.yaml')
    expect(refused.code).toBe(1)
    expect(refused.err).toMatch(
      /^meshctl local: the local cluster does not run CronJob \(batch\/v1\).* \[MESH_ERR_LOCAL_KIND\]\n$/,
    )
    expect((await run('local', 'get', 'frobs')).err).toMatch(/unknown resource type "frobs"/)
    // An image the local cluster cannot run, or a tag never built, is refused naming the Deployment.
    writeFileSync(
      join(dir, 'bad-tag.yaml'),
      manifests.split('---\n')[2]!.replace('details:0.1.0', 'details:9.9.9'),
    )
    const badTag = await run('local', 'apply', '-f', 'bad-tag.yaml')
    expect(badTag.code).toBe(1)
    expect(badTag.err).toMatch(
      /^meshctl local: Deployment cli\/details-v1: container "details": image "minimesh\/bookinfo-details:9\.9\.9": tag "9\.9\.9" does not exist here .*\[MESH_ERR_LOCAL_IMAGE\]\n$/,
    )
    writeFileSync(
      join(dir, 'bad-image.yaml'),
      manifests.split('---\n')[2]!.replace('minimesh/bookinfo-details:0.1.0', 'nginx:1.27'),
    )
    expect((await run('local', 'apply', '-f', 'bad-image.yaml')).err).toMatch(
      /^meshctl local: Deployment cli\/details-v1: container "details": image "nginx:1\.27" has no local entrypoint/,
    )
    const deleted = await run('local', 'delete', 'deploy', 'details-v1', '-n', 'cli')
    expect(deleted.out).toBe('deployment "details-v1" deleted\n')
    expect((await run('local', 'get', 'pods', '-n', 'cli')).err).toBe(
      'No resources found in cli namespace.\n',
    )
    const down = await run('local', 'down')
    expect(down.out).toMatch(/^local cluster down; removed .*bridge mmt5/)
    expect((await run('local', 'status')).code).toBe(3)
    expect((await run('local', 'get', 'pods')).err).toMatch(/no local cluster is running/)
  }, 60_000)
})
