import { MESH_KINDS } from './resources/index.ts'
import { type OpenApiSchema, UNIMPLEMENTED_DESCRIPTION } from './schema/index.ts'

/** One Istio field minimesh does not implement: setting it is a MESH_ERR_API_UNIMPLEMENTED error. */
export interface UnimplementedField {
  kind: string
  /** e.g. `spec.http[].corsPolicy` (`[]`: every item of a list, `*`: every value of a map). */
  path: string
}

function walk(node: OpenApiSchema, path: string, out: string[]): void {
  if (node.description === UNIMPLEMENTED_DESCRIPTION && node['x-kubernetes-preserve-unknown-fields']) {
    out.push(path)
    return
  }
  for (const [k, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${k}`, out)
  if (node.items) walk(node.items, `${path}[]`, out)
  if (node.additionalProperties) walk(node.additionalProperties, `${path}.*`, out)
}

/** Every unimplemented field of every mesh kind, read from the same schemas that validate them. */
export function unimplementedFields(): UnimplementedField[] {
  return MESH_KINDS.flatMap((def) => {
    const paths: string[] = []
    walk(def.spec.openapi(), 'spec', paths)
    return paths.map((path) => ({ kind: def.kind, path }))
  })
}
