import { describe, expect, it } from 'vitest'
import { inject } from './inject.ts'
import { injectResource, uninjectResource } from './resources.ts'

const deployment = (name: string, apiVersion = 'apps/v1') => ({
  apiVersion,
  kind: 'Deployment',
  metadata: { name, namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } },
  },
})

describe('injectResource', () => {
  it('injects the pod template of a workload with its name as the workload name', () => {
    const d = deployment('cart')
    const r = injectResource(d)
    expect(r.changed).toBe(true)
    const tpl = (r.object as ReturnType<typeof deployment>).spec.template
    expect(tpl).toEqual(inject(d.spec.template, undefined, { workloadName: 'cart' }))
    expect(d.spec.template.spec.containers).toHaveLength(1) // input untouched
    expect(uninjectResource(r.object).object).toEqual(d)
  })
  it('walks a List, and leaves other groups and kinds alone', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        deployment('a'),
        deployment('b', 'example.com/v1'),
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
      ],
    }
    const r = injectResource(list)
    expect(r.changed).toBe(true)
    const items = (r.object as typeof list).items as ReturnType<typeof deployment>[]
    expect(items[0]!.spec.template.spec.containers.map((c) => c.name)).toEqual(['mesh-proxy', 'a'])
    expect(items[1]).toBe(list.items[1])
    expect(items[2]).toBe(list.items[2])
    expect(uninjectResource(r.object).object).toEqual(list)
  })
  it('says why a template was skipped', () => {
    const d = deployment('cart')
    ;(d.spec.template.metadata as Record<string, unknown>).annotations = {
      'sidecar.minimesh.dev/inject': 'false',
    }
    const r = injectResource(d)
    expect(r).toEqual({
      object: d,
      changed: false,
      notes: ['Deployment shop/cart: not injected: pod annotation sidecar.minimesh.dev/inject=false'],
    })
    expect(uninjectResource(d).changed).toBe(false)
  })
})
