// meshctl kube-inject as a real process on a multi-document manifest.
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { generateCertificates, inject } from '@minimesh/injector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are navigated freely in tests
type Json = any

const main = fileURLToPath(new URL('../main.ts', import.meta.url))

const MANIFEST = `# Bookinfo-like manifest
apiVersion: v1
kind: Service
metadata:
  name: productpage   # a comment that must survive
  labels: {app: productpage}
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: productpage}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: productpage-v1
  namespace: bookinfo
spec:
  replicas: 1
  selector: {matchLabels: {app: productpage, version: v1}}
  template:
    metadata:
      labels: {app: productpage, version: v1}
    spec:
      serviceAccountName: bookinfo-productpage
      containers:
      - name: productpage
        image: minimesh/bookinfo-productpage:0.1.0
        ports: [{containerPort: 9080}]
        readinessProbe: {httpGet: {path: /health, port: 9080}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: example/db:1, ports: [{containerPort: 5432}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: agent, image: example/agent:1}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: example/report:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    metadata:
      annotations: {sidecar.minimesh.dev/inject: "false"}
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: example/migrate:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, labels: {run: debug}}
spec:
  containers: [{name: shell, image: busybox, command: [sleep, "3600"]}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: legacy}
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: legacy, image: example/legacy:1}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: "on"}
`

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mm-kube-inject-'))
  writeFileSync(join(dir, 'bookinfo.yaml'), MANIFEST)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function meshctl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@minimesh/source', main, ...args], { cwd: dir })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
    child.stdin.end(stdin ?? '')
  })
}

const docs = (text: string): Json[] => parseAllDocuments(text).map((d) => d.toJS())
const containerNames = (spec: Json) => spec.containers.map((c: Json) => c.name)

describe('meshctl kube-inject', () => {
  it('injects every workload kind, passes the rest through, as a real process', async () => {
    const { code, stdout, stderr } = await meshctl(['kube-inject', '-f', 'bookinfo.yaml'])
    expect(stderr).toContain('DaemonSet default/agent: not injected: pod uses hostNetwork')
    expect(stderr).toContain(
      'Job default/migrate: not injected: pod annotation sidecar.minimesh.dev/inject=false',
    )
    expect(code).toBe(0)
    const out = docs(stdout)
    const input = docs(MANIFEST)
    expect(out.map((d) => d.kind)).toEqual(input.map((d) => d.kind))
    const [svc, deploy, sts, ds, cron, job, pod, rs, cm] = out as Json[]
    // untouched kinds keep their text, comments included
    expect(stdout).toMatch(/name: productpage +# a comment that must survive/)
    expect(svc).toEqual(input[0])
    expect(cm).toEqual(input[8])
    expect(ds).toEqual(input[3])
    expect(job).toEqual(input[5])
    // workloads: the same inject() the webhook uses, with the workload's name
    // Classic placement by default: the proxy first, holding the app until it is ready.
    expect(containerNames(deploy.spec.template.spec)).toEqual(['mesh-proxy', 'productpage'])
    expect(deploy.spec.template).toEqual(
      inject(input[1].spec.template, undefined, { workloadName: 'productpage-v1' }),
    )
    expect(deploy.spec.template.spec.containers[1].readinessProbe.httpGet.port).toBe(15020)
    expect(deploy.spec.replicas).toBe(1)
    expect(containerNames(sts.spec.template.spec)).toEqual(['mesh-proxy', 'db'])
    expect(containerNames(cron.spec.jobTemplate.spec.template.spec)).toEqual(['mesh-proxy', 'report'])
    expect(cron.spec.jobTemplate.spec.template.spec.initContainers[0].name).toBe('mesh-init')
    expect(containerNames(pod.spec)).toEqual(['mesh-proxy', 'shell'])
    expect(pod).toEqual(inject(input[6]))
    expect(containerNames(rs.spec.template.spec)).toEqual(['mesh-proxy', 'legacy'])
    const env = Object.fromEntries(
      cron.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: Json) => [e.name, e.value]),
    )
    expect(env.MESH_WORKLOAD_NAME).toBe('report')
    // injecting the output again changes nothing
    writeFileSync(join(dir, 'injected.yaml'), stdout)
    const again = await meshctl(['kube-inject', '-f', 'injected.yaml'])
    expect(docs(again.stdout)).toEqual(out)
    // --uninject gives back the input
    const back = await meshctl(['kube-inject', '--uninject', '-f', 'injected.yaml'])
    expect(back.code).toBe(0)
    expect(docs(back.stdout)).toEqual(input)
  })

  it('--native-sidecars: the proxy an init container after mesh-init; idempotent and reversible', async () => {
    const { code, stdout } = await meshctl(['kube-inject', '--native-sidecars', '-f', 'bookinfo.yaml'])
    expect(code).toBe(0)
    const out = docs(stdout)
    const spec = out[1]!.spec.template.spec
    expect(containerNames(spec)).toEqual(['productpage'])
    expect(spec.initContainers.map((c: Json) => [c.name, c.restartPolicy])).toEqual([
      ['mesh-init', undefined],
      ['mesh-proxy', 'Always'],
    ])
    writeFileSync(join(dir, 'native.yaml'), stdout)
    // Injecting again (either mode) finds the proxy among the init containers and changes nothing.
    expect(docs((await meshctl(['kube-inject', '-f', 'native.yaml'])).stdout)).toEqual(out)
    const back = await meshctl(['kube-inject', '--uninject', '-f', 'native.yaml'])
    expect(docs(back.stdout)).toEqual(docs(MANIFEST))
  })

  it('reads stdin with -f - and writes -o FILE; flags change the injected image', async () => {
    const { code, stdout } = await meshctl(
      ['kube-inject', '-f', '-', '-o', 'out.yaml', '--image', 'registry.local/proxy:dev'],
      MANIFEST,
    )
    expect(code).toBe(0)
    expect(stdout).toBe('')
    const out = docs(readFileSync(join(dir, 'out.yaml'), 'utf8'))
    expect(out[1]!.spec.template.spec.containers[0].image).toBe('registry.local/proxy:dev')
    expect(out[1]!.spec.template.spec.initContainers[0].image).toBe('registry.local/proxy:dev')
  })

  it('--ca-root-cert: the sidecar gets the mesh roots and its token, as from the webhook with a CA', async () => {
    const { caCert } = await generateCertificates()
    writeFileSync(join(dir, 'roots.pem'), `# meshd's root\n${caCert}`)
    const { code, stdout } = await meshctl([
      'kube-inject',
      '--ca-root-cert',
      'roots.pem',
      '-f',
      'bookinfo.yaml',
    ])
    expect(code).toBe(0)
    const spec = docs(stdout)[1]!.spec.template.spec
    const proxy = spec.containers.find((c: Json) => c.name === 'mesh-proxy')
    const env = proxy.env.find((e: Json) => e.name === 'MESH_CA_ROOT_CERT')
    expect(env.value.trim()).toBe(caCert.trim())
    const token = spec.volumes.find((v: Json) => v.projected)
    expect(token.projected.sources[0].serviceAccountToken).toMatchObject({ audience: 'minimesh-ca' })
    // Without the flag: no roots, no token (the sidecar has no identity).
    const plain = docs((await meshctl(['kube-inject', '-f', 'bookinfo.yaml'])).stdout)[1]!.spec.template.spec
    expect(JSON.stringify(plain)).not.toContain('MESH_CA_ROOT_CERT')
    writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n')
    const bad = await meshctl(['kube-inject', '--ca-root-cert', 'not-a-cert.pem', '-f', 'bookinfo.yaml'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--ca-root-cert not-a-cert.pem: no PEM certificate in it')
    const missing = await meshctl(['kube-inject', '--ca-root-cert', 'nope.pem', '-f', 'bookinfo.yaml'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('--ca-root-cert nope.pem: cannot read it')
  })

  it('bad YAML: exit 1 with the file and line; no -f: usage, exit 2', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n')
    const bad = await meshctl(['kube-inject', '-f', 'bad.yaml'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/bad\.yaml:\d+: .*\[MESH_ERR_INJECT_BAD_MANIFEST\]/)
    const annotated = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  annotations: {traffic.sidecar.minimesh.dev/excludeOutboundPorts: "db"}\nspec: {containers: [{name: a}]}\n`
    writeFileSync(join(dir, 'annotated.yaml'), annotated)
    const refused = await meshctl(['kube-inject', '-f', 'annotated.yaml'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      'annotated.yaml: Pod default/x: annotation traffic.sidecar.minimesh.dev/excludeOutboundPorts',
    )
    const usage = await meshctl(['kube-inject'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('-f FILE is required')
    const missing = await promisify(execFile)(
      process.execPath,
      ['--conditions=@minimesh/source', main, 'kube-inject', '-f', 'nope.yaml'],
      { cwd: dir },
    ).catch((e) => e)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('cannot read nope.yaml')
  })
})
