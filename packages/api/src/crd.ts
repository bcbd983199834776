import { stringify } from 'yaml'
import type { KubeObject } from './kube/index.ts'
import type { KindDefinition } from './resources/common.ts'
import { MESH_KINDS } from './resources/index.ts'
import type { Schema } from './schema/index.ts'

/** A CustomResourceDefinition (apiextensions.k8s.io/v1) for one mesh kind, from the same schema that validates it. */
export function crdFor(def: KindDefinition<Schema<unknown>>): KubeObject {
  const openAPIV3Schema = {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: def.spec.openapi(),
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    required: ['spec'],
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${def.group}`,
      labels: { 'app.kubernetes.io/part-of': 'minimesh' },
    },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: def.categories,
      },
      scope: 'Namespaced',
      versions: def.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema },
        subresources: { status: {} },
      })),
    },
  }
}

export function allCrds(): KubeObject[] {
  return MESH_KINDS.map(crdFor)
}

/** One CRD as YAML, as `kubectl apply -f` takes it. */
export function crdYaml(crd: Record<string, unknown>): string {
  return stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false })
}

/** Every CRD as one multi-document YAML stream. */
export function allCrdsYaml(): string {
  return allCrds()
    .map((c) => crdYaml(c))
    .join('---\n')
}
