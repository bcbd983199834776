import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { allCrds, allCrdsYaml, crdFor, crdYaml } from './crd.ts'
import { MESH_KINDS } from './resources/index.ts'
import type { OpenApiSchema } from './schema/index.ts'
import { expectGolden, expectNoStaleGoldens } from './testing/golden.ts'

const GOLDEN = new URL('./testdata/golden/crds/', import.meta.url)

/** Reasons a schema is not structural (Kubernetes' rules for CRD schemas), with the node's path. */
function structuralProblems(
  node: OpenApiSchema & Record<string, unknown>,
  path: string,
  out: string[],
): string[] {
  if (!node.type && node['x-kubernetes-preserve-unknown-fields'] !== true)
    out.push(`${path}: no type and no x-kubernetes-preserve-unknown-fields`)
  if ((node.additionalProperties as unknown) === false) out.push(`${path}: additionalProperties: false`)
  if (node.properties && node.additionalProperties)
    out.push(`${path}: both properties and additionalProperties`)
  for (const k of ['oneOf', 'anyOf', 'allOf', 'not', '$ref', 'nullable'])
    if (k in node) out.push(`${path}: uses ${k}`)
  if (node.pattern !== undefined) {
    try {
      new RegExp(node.pattern)
    } catch {
      out.push(`${path}: pattern does not compile`)
    }
  }
  for (const [k, child] of Object.entries(node.properties ?? {}))
    structuralProblems(child as OpenApiSchema & Record<string, unknown>, `${path}.${k}`, out)
  if (node.items) structuralProblems(node.items as OpenApiSchema & Record<string, unknown>, `${path}[]`, out)
  if (node.additionalProperties)
    structuralProblems(node.additionalProperties as OpenApiSchema & Record<string, unknown>, `${path}.*`, out)
  return out
}

describe('CRDs', () => {
  it.each(MESH_KINDS.map((k) => [k.kind, k] as const))('%s matches its golden file', (_kind, def) => {
    const text = `# Generated from packages/api/src/resources by crd.test.ts; regenerate with UPDATE_GOLDEN=1.\n${crdYaml(crdFor(def))}`
    expectGolden(new URL(`${def.plural}.${def.group}.yaml`, GOLDEN), text)
  })

  it('has no golden CRD without a kind', () => {
    expectNoStaleGoldens(GOLDEN, ['.yaml'])
  })

  it.each(allCrds().map((c) => [(c.metadata as { name: string }).name, c] as const))(
    '%s has a structural schema',
    (_n, crd) => {
      const spec = crd.spec as {
        versions: { name: string; storage: boolean; schema: { openAPIV3Schema: OpenApiSchema } }[]
      }
      expect(spec.versions.filter((v) => v.storage)).toHaveLength(1)
      for (const v of spec.versions) {
        const root = v.schema.openAPIV3Schema as OpenApiSchema & Record<string, unknown>
        expect(structuralProblems(root, v.name, [])).toEqual([])
        // metadata may only be `type: object` (the API server owns its schema).
        expect(root.properties?.metadata).toEqual({ type: 'object' })
      }
    },
  )

  it('the structural check catches what Kubernetes rejects', () => {
    const bad = {
      type: 'object',
      properties: {
        a: {},
        b: { type: 'object', additionalProperties: false },
        c: { type: 'string', pattern: '(' },
      },
    } as unknown as OpenApiSchema & Record<string, unknown>
    expect(structuralProblems(bad, 'x', [])).toEqual([
      'x.a: no type and no x-kubernetes-preserve-unknown-fields',
      'x.b: additionalProperties: false',
      'x.c: pattern does not compile',
    ])
  })

  it('serves v1, v1beta1 and v1alpha3 of the networking kinds, storing v1', () => {
    const vs = allCrds().find(
      (c) => (c.metadata as { name: string }).name === 'virtualservices.networking.istio.io',
    )
    const versions = (vs!.spec as { versions: { name: string; storage: boolean }[] }).versions
    expect(versions.map((v) => [v.name, v.storage])).toEqual([
      ['v1', true],
      ['v1beta1', false],
      ['v1alpha3', false],
    ])
  })

  it('keeps unimplemented fields in the schema so validation can report them', () => {
    const dr = crdFor(MESH_KINDS.find((k) => k.kind === 'DestinationRule')!)
    const spec = (dr.spec as { versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] }).versions[0]!
      .schema.openAPIV3Schema.properties!.spec!
    expect(spec.properties?.workloadSelector?.['x-kubernetes-preserve-unknown-fields']).toBe(true)
  })

  it('allCrdsYaml is one stream of every CRD', () => {
    const docs = parseAllDocuments(allCrdsYaml())
    expect(
      Array.isArray(docs) &&
        docs.map((d) => (d.toJS() as { spec: { names: { kind: string } } }).spec.names.kind),
    ).toEqual([
      'VirtualService',
      'DestinationRule',
      'Gateway',
      'QuotaPolicy',
      'AuthorizationPolicy',
      'PeerAuthentication',
    ])
  })
})
