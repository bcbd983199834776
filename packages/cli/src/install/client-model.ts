// @kubernetes/client-node serializes an object of a built-in kind through its generated model,
// which reads each field by the model's property name and drops the rest. Almost every field is
// named as in the API; a JSON schema's are not (`x-kubernetes-preserve-unknown-fields` is
// `x_kubernetes_preserve_unknown_fields`, `enum` is `_enum`, `default` is `_default`, `$ref` is
// `ref`). A CustomResourceDefinition written with the API's names would reach the API server
// without them: a real one then rejects the schema as not structural, or prunes and accepts what
// they were meant to keep or forbid. So a CRD's schemas are renamed to the model's names first,
// following the model's own types: `properties`, `patternProperties`, `definitions`, `allOf`,
// `anyOf`, `oneOf`, `not` are schemas of the model; `items`, `additionalProperties`,
// `additionalItems` and values are passed through as written, so they keep the API's names.
import type { KubeObject } from '@minimesh/api/kube'

const RENAMED: Record<string, string> = { $ref: 'ref', $schema: 'schema', default: '_default', enum: '_enum' }
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions'])
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf'])

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

function modelName(key: string): string {
  if (key.startsWith('x-kubernetes-')) return key.replaceAll('-', '_')
  return RENAMED[key] ?? key
}

function schemaForModel(schema: Json): Json {
  const out: Json = {}
  for (const [key, value] of Object.entries(schema)) {
    let v = value
    if (SCHEMA_MAPS.has(key) && isObject(value))
      v = Object.fromEntries(Object.entries(value).map(([k, s]) => [k, isObject(s) ? schemaForModel(s) : s]))
    else if (SCHEMA_LISTS.has(key) && Array.isArray(value))
      v = value.map((s) => (isObject(s) ? schemaForModel(s) : s))
    else if (key === 'not' && isObject(value)) v = schemaForModel(value)
    out[modelName(key)] = v
  }
  return out
}

/** The object as client-node's model of its kind must be given it to send it as written. */
export function forClientModel(obj: KubeObject): KubeObject {
  if (obj.kind !== 'CustomResourceDefinition' || !isObject(obj.spec)) return obj
  const versions = Array.isArray(obj.spec.versions) ? obj.spec.versions : []
  return {
    ...obj,
    spec: {
      ...obj.spec,
      versions: versions.map((version: unknown) => {
        if (!isObject(version) || !isObject(version.schema) || !isObject(version.schema.openAPIV3Schema))
          return version
        return {
          ...version,
          schema: { ...version.schema, openAPIV3Schema: schemaForModel(version.schema.openAPIV3Schema) },
        }
      }),
    },
  }
}
