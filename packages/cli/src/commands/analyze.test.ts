import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { liveObjects } from './analyze.ts'

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url))

/** Runs the real meshctl as a process; resolves with its exit code and output. */
function meshctl(args: string[], opts: { cwd?: string; stdin?: string } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions=@minimesh/source', MAIN, ...args],
      { cwd: opts.cwd },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    )
    child.stdin?.end(opts.stdin ?? '')
  })
}

const SERVICES = `# Bookinfo's reviews and ratings
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
`
const RULES = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`
const ROUTES = JSON.stringify({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews' },
  spec: {
    hosts: ['reviews'],
    http: [
      {
        route: [
          { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
          { destination: { host: 'reviews', subset: 'v2' }, weight: 10 },
        ],
      },
    ],
  },
})
const BAD = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings, subset: v3}
    timeout: 10
  - route:
    - destination: {host: ratingz}
`

describe('meshctl analyze', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'meshctl-analyze-'))
    mkdirSync(join(dir, 'good/routing'), { recursive: true })
    writeFileSync(join(dir, 'good/services.yaml'), SERVICES)
    writeFileSync(join(dir, 'good/routing/destination-rules.yml'), RULES)
    writeFileSync(join(dir, 'good/routing/reviews.json'), ROUTES)
    writeFileSync(join(dir, 'good/routing/notes.txt'), 'not: [config')
    writeFileSync(join(dir, 'bad.yaml'), BAD)
    mkdirSync(join(dir, 'empty'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('exits 0 on a good directory, read recursively for .yaml, .yml and .json', async () => {
    const r = await meshctl(['analyze', '-f', 'good'], { cwd: dir })
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('✔ No validation issues found in 3 files (4 objects)\n')
    expect(r.code).toBe(0)
  })

  it('exits 1 on a bad file and prints every finding with its exact line', async () => {
    const r = await meshctl(['analyze', '-f', 'good/services.yaml', '-f', 'bad.yaml'], { cwd: dir })
    expect(r.stdout.split('\n')).toEqual([
      'bad.yaml:9 VirtualService default/ratings spec.http[0].route[0].destination.subset: warning: subset "v3" of host "ratings" is not defined: no DestinationRule for ratings.default.svc.cluster.local among the inputs; not checked (give the file that defines it too, or analyze the live cluster: meshctl analyze --live -f …) [MESH_ERR_API_UNKNOWN_SUBSET]',
      'bad.yaml:10 VirtualService default/ratings spec.http[0].timeout: expected a duration string with a unit, got the number 10 (write e.g. "10s") [MESH_ERR_API_DURATION]',
      'bad.yaml:12 VirtualService default/ratings spec.http[1].route[0].destination.host: warning: host "ratingz" (ratingz.default.svc.cluster.local) matches no Service among the inputs [MESH_ERR_API_UNKNOWN_HOST]',
      '1 error, 2 warnings in 2 files',
      '',
    ])
    expect(r.code).toBe(1)
  })

  it('exits 0 when there are only warnings, and reads stdin for -', async () => {
    const warn = BAD.split('\n').slice(0, 9).join('\n').replace('host: ratings, subset: v3', 'host: ratingz')
    const r = await meshctl(['analyze', '-f', 'good', '-f', '-'], { cwd: dir, stdin: warn })
    expect(r.stdout).toBe(
      '<stdin>:9 VirtualService default/ratings spec.http[0].route[0].destination.host: warning: host "ratingz" (ratingz.default.svc.cluster.local) matches no Service among the inputs [MESH_ERR_API_UNKNOWN_HOST]\n0 errors, 1 warning in 4 files\n',
    )
    expect(r.code).toBe(0)
  })

  it('puts objects that name no namespace in the one given with -n', async () => {
    expect((await meshctl(['analyze', '-n', 'shop', '-f', 'good'], { cwd: dir })).code).toBe(0)
    const inDefault =
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: default}\nspec:\n  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews}}]}]\n'
    const r = await meshctl(['analyze', '--namespace=shop', '-f', 'good', '-'], {
      cwd: dir,
      stdin: inDefault,
    })
    expect(r.stdout).toContain(
      '<stdin>:5 VirtualService default/r spec.hosts[0]: warning: host "reviews" (reviews.default.svc.cluster.local) matches no Service',
    )
    expect(r.code).toBe(0)
  })

  it('prints JSON findings with -o json', async () => {
    const r = await meshctl(['analyze', '-o', 'json', '-f', 'bad.yaml'], { cwd: dir })
    const findings = JSON.parse(r.stdout) as { code: string; line: number; file: string }[]
    // Without the Services, the hosts match nothing either.
    expect(findings.map((f) => [f.file, f.line, f.code])).toEqual([
      ['bad.yaml', 6, 'MESH_ERR_API_UNKNOWN_HOST'],
      ['bad.yaml', 9, 'MESH_ERR_API_UNKNOWN_SUBSET'],
      ['bad.yaml', 9, 'MESH_ERR_API_UNKNOWN_HOST'],
      ['bad.yaml', 10, 'MESH_ERR_API_DURATION'],
      ['bad.yaml', 12, 'MESH_ERR_API_UNKNOWN_HOST'],
    ])
    expect(r.code).toBe(1)
  })

  it('reports YAML syntax errors with their line', async () => {
    const r = await meshctl(['analyze', '-f', '-'], {
      cwd: dir,
      stdin: 'apiVersion: v1\nkind: Service\nmetadata: {name: [x\n',
    })
    expect(r.stdout.split('\n')[0]).toBe(
      '<stdin>:4: Flow sequence in block collection must be sufficiently indented and end with a ] (column 1) [MESH_ERR_API_YAML]',
    )
    expect(r.stdout).toMatch(/\n\d errors, 0 warnings in 1 file\n$/)
    expect(r.code).toBe(1)
  })

  it('says what is wrong with the inputs themselves', async () => {
    const missing = await meshctl(['analyze', '-f', 'nope.yaml'], { cwd: dir })
    expect(missing.stderr).toBe(
      'meshctl analyze: cannot read nope.yaml: no such file or directory [MESH_ERR_CLI_INPUT]\n',
    )
    expect(missing.code).toBe(1)
    const empty = await meshctl(['analyze', '-f', 'empty'], { cwd: dir })
    expect(empty.stderr).toContain('no .yaml, .yml, .json files in empty')
    expect(empty.code).toBe(1)
    // Without -f it reads the live cluster, and says when there is none to read.
    const live = await meshctl(['analyze', '--kubeconfig', join(dir, 'no-kubeconfig')], { cwd: dir })
    expect(live.stderr).toMatch(/^meshctl analyze: cannot read the kubeconfig .*no-kubeconfig/)
    expect(live.code).toBe(1)
  })

  it('checks one sample file alone without erring about rules that live in another file', async () => {
    const sample = fileURLToPath(
      new URL(
        '../../../../apps/bookinfo/kube/networking/virtual-service-reviews-test-v2.yaml',
        import.meta.url,
      ),
    )
    const r = await meshctl(['analyze', '-f', sample], { cwd: dir })
    expect(r.stdout).toMatch(
      /destination\.subset: warning: subset "v2" of host "reviews" is not defined: no DestinationRule for reviews\.default\.svc\.cluster\.local among the inputs; not checked \(give the file that defines it too, or analyze the live cluster/,
    )
    expect(r.stdout).toMatch(/\n0 errors, \d+ warnings in 1 file\n$/)
    expect(r.code).toBe(0)
    // A rule that is there but lacks the subset is still an error.
    writeFileSync(
      join(dir, 'dr-v1-only.yaml'),
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  subsets: [{name: v1, labels: {version: v1}}]\n',
    )
    const both = await meshctl(['analyze', '-f', sample, '-f', 'dr-v1-only.yaml'], { cwd: dir })
    expect(both.stdout).toMatch(
      /destination\.subset: subset "v2" is not defined by DestinationRule default\/reviews \(dr-v1-only\.yaml:1\), which defines v1/,
    )
    expect(both.code).toBe(1)
  })

  it('--live analyzes the cluster objects with the files over them', async () => {
    const cluster = [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'reviews', namespace: 'default' },
        spec: { ports: [{ name: 'http', port: 9080 }] },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'reviews', namespace: 'default' },
        spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
        status: { conditions: [] },
      },
    ]
    // The cluster, as a target that lists these objects (a recording edge, named so).
    const target = {
      description: 'test cluster',
      meshd: async () => ({}) as never,
      forward: async () => ({}) as never,
      list: async (kind: string) => cluster.filter((o) => o.kind === kind) as never,
      get: async () => [],
    }
    const live = await liveObjects(target)
    expect(live.map((o) => o.file)).toEqual([
      'cluster:service/default/reviews',
      'cluster:destinationrule/default/reviews',
    ])
    expect(live[1]!.object.status).toBeUndefined()
  })
})
