// `@minimesh/api/config`: the proxy configuration model alone (types, validation, type URLs,
// node ids, quota expressions), without the discovery .proto, gRPC or YAML the package index
// loads. A data-plane process imports this so that it carries only what it uses (memory).
export * from './config/index.ts'
export type { NodeIdParts, ProxyType } from './discovery/resource.ts'
export { formatNodeId } from './discovery/resource.ts'
export * from './quota/expression.ts'
export type { FieldPath, Issue } from './schema/index.ts'
export { formatPath } from './schema/index.ts'
