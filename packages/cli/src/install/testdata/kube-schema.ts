// Test helper: validates Kubernetes objects against the official API definitions, no cluster needed.
//   1. Schema (types, required fields, enums, formats): kubernetes-models (pinned in the catalog),
//      whose validators are generated from the official Kubernetes OpenAPI spec, v1.36.
//   2. Unknown fields (what `kubectl apply --validate=strict` refuses; the OpenAPI schemas do not
//      forbid them): the field lists of @kubernetes/client-node's models, generated from the same
//      official spec (client 2.0, Kubernetes 1.34 API).
import * as client from '@kubernetes/client-node'
import type { Deployment } from 'kubernetes-models/apps/v1'

export const KUBERNETES_SCHEMA_VERSION = '1.36'

interface AjvError {
  instancePath?: string
  message?: string
  params?: Record<string, unknown>
}

/** Every model class of kubernetes-models has Deployment's shape: `new (data)`, then `validate()` (throws). */
type ModelClass = new (data: unknown) => Pick<Deployment, 'validate'>

async function modelClass(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion]
  const path = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`
  let mod: Record<string, unknown>
  try {
    mod = (await import(path)) as Record<string, unknown>
  } catch {
    return undefined
  }
  const cls = mod[kind]
  return typeof cls === 'function' ? (cls as ModelClass) : undefined
}

interface Attribute {
  baseName: string
  type: string
}
type ClientModel = { getAttributeTypeMap(): Attribute[] }

function clientModel(type: string): ClientModel | undefined {
  const m = (client as unknown as Record<string, unknown>)[type]
  return typeof m === 'function' && 'getAttributeTypeMap' in m ? (m as unknown as ClientModel) : undefined
}

/** Fields that no model of the official API has, with their paths (`spec.template.spec.containers[0].bogus`). */
export function unknownFields(value: unknown, type: string, path: string, out: string[] = []): string[] {
  if (value === null || value === undefined) return out
  const array = /^Array<(.+)>$/.exec(type)
  if (array) {
    if (Array.isArray(value))
      for (const [i, v] of value.entries()) unknownFields(v, array[1]!, `${path}[${i}]`, out)
    return out
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map) {
    if (typeof value === 'object')
      for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out)
    return out
  }
  const model = clientModel(type)
  if (!model || typeof value !== 'object' || Array.isArray(value)) return out
  const attrs = model.getAttributeTypeMap()
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const attr = attrs.find((a) => a.baseName === k)
    if (!attr) out.push(`${path ? `${path}.` : ''}${k}`)
    else unknownFields(v, attr.type, path ? `${path}.${k}` : k, out)
  }
  return out
}

function clientType(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`
}

/** Every problem of one non-mesh object, as `Kind name: path: message` lines; [] when valid. */
export async function validateKubeObject(obj: Record<string, unknown>): Promise<string[]> {
  const apiVersion = String(obj.apiVersion)
  const kind = String(obj.kind)
  const name = `${kind} ${(obj.metadata as { name?: string } | undefined)?.name ?? '?'}`
  const Model = await modelClass(apiVersion, kind)
  if (!Model)
    return [`${name}: ${apiVersion} ${kind} is not a kind of the Kubernetes ${KUBERNETES_SCHEMA_VERSION} API`]
  const problems: string[] = []
  try {
    new Model(obj).validate()
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors
    if (!errors) problems.push(`${name}: ${(err as Error).message}`)
    for (const e of errors ?? []) {
      const extra = e.params?.allowedValues ? ` (${JSON.stringify(e.params.allowedValues)})` : ''
      problems.push(`${name}: ${e.instancePath || '/'}: ${e.message}${extra}`)
    }
  }
  const type = clientType(apiVersion, kind)
  if (!clientModel(type))
    return [...problems, `${name}: no client model ${type} to check field names against`]
  for (const field of unknownFields(obj, type, '')) problems.push(`${name}: unknown field ${field}`)
  return problems
}
