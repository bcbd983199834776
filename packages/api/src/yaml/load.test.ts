import { describe, expect, it } from 'vitest'
import { ApiErrorCode } from '../errors.ts'
import { loadYaml, unsourced } from './load.ts'

const STREAM = `# two routing rules in one stream
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews          # a comment after a value
spec:
  hosts: [reviews]
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
---
# the second document
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels: {version: v2}
`

describe('loadYaml', () => {
  const { objects, findings } = loadYaml(STREAM, 'rules.yaml')

  it('reads every document of a stream, ignoring comments', () => {
    expect(findings).toEqual([])
    expect(objects.map((o) => o.object.kind)).toEqual(['VirtualService', 'DestinationRule'])
    expect(objects.map((o) => [o.file, o.line])).toEqual([
      ['rules.yaml', 2],
      ['rules.yaml', 19],
    ])
    expect((objects[0]!.object.metadata as { name: string }).name).toBe('reviews')
  })

  it('gives the line of nested paths', () => {
    const vs = objects[0]!
    expect(vs.lineOf(['spec'])).toBe(6)
    expect(vs.lineOf(['spec', 'hosts', 0])).toBe(7)
    expect(vs.lineOf(['spec', 'http', 0, 'match', 0, 'headers', 'end-user', 'exact'])).toBe(12)
    expect(vs.lineOf(['spec', 'http', 0, 'route', 0, 'destination'])).toBe(14)
    expect(vs.lineOf(['spec', 'http', 0, 'route', 0, 'destination', 'subset'])).toBe(16)
  })

  it('gives lines in the second document of the stream', () => {
    const dr = objects[1]!
    expect(dr.lineOf(['metadata', 'name'])).toBe(22)
    expect(dr.lineOf(['spec', 'subsets', 1])).toBe(29)
    expect(dr.lineOf(['spec', 'subsets', 1, 'labels', 'version'])).toBe(30)
    expect(dr.lineOf(['spec', 'subsets', 0, 'labels', 'version'])).toBe(28)
  })

  it('points a missing field at the nearest parent that exists', () => {
    expect(objects[1]!.lineOf(['spec', 'trafficPolicy', 'tls'])).toBe(23)
    expect(objects[1]!.lineOf(['spec', 'subsets', 7, 'name'])).toBe(25)
  })

  it('flattens kind: List and keeps positions of its items', () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
- apiVersion: v1
  kind: Service
  metadata:
    name: b
`
    const r = loadYaml(text, 'list.yaml')
    expect(r.objects.map((o) => [(o.object.metadata as { name: string }).name, o.line])).toEqual([
      ['a', 4],
      ['b', 7],
    ])
    expect(r.objects[1]!.lineOf(['metadata', 'name'])).toBe(10)
  })

  it('reads JSON', () => {
    const r = loadYaml(
      '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {\n    "name": "x"\n  }\n}\n',
    )
    expect(r.objects[0]!.object.kind).toBe('Service')
    expect(r.objects[0]!.lineOf(['metadata', 'name'])).toBe(5)
  })

  it('turns syntax errors, duplicate keys and non-mapping documents into findings with lines', () => {
    const r = loadYaml('a: 1\n---\nkind: x\nkind: y\n---\n- 1\n---\nb: [1, 2\n', 'bad.yaml')
    expect(r.objects.map((o) => o.object)).toEqual([{ a: 1 }])
    expect(r.findings.map((f) => [f.code, f.line])).toEqual([
      [ApiErrorCode.Yaml, 4],
      [ApiErrorCode.Type, 6],
      [ApiErrorCode.Yaml, 9],
    ])
    expect(r.findings[0]!.message).toMatch(/unique/)
  })

  it('skips empty documents and comment-only streams', () => {
    expect(loadYaml('# nothing\n---\n---\n').objects).toEqual([])
    expect(loadYaml('').findings).toEqual([])
  })

  it('wraps plain objects without positions', () => {
    const s = unsourced({ kind: 'X' }, 'f.json')
    expect(s.file).toBe('f.json')
    expect(s.lineOf(['kind'])).toBeUndefined()
  })
})
