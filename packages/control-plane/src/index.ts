// @minimesh/control-plane: config sources, service registry, translator, discovery server (meshd).
import type { ConfigSnapshot } from './snapshot.ts'

export {
  CA_AUDIENCE,
  type CallerIdentity,
  type CaMaterial,
  type CaStore,
  CertificateAuthority,
  FileCaStore,
  JwksAuthenticator,
  MemoryCaStore,
  type MeshCa,
  type MeshCaOptions,
  type PodLookup,
  SecretCaStore,
  spiffeId,
  type TokenAuthenticator,
  TokenReviewAuthenticator,
} from './ca/index.ts'
export { ControlPlaneError, type ControlPlaneErrorCode } from './errors.ts'
export { MESHD_LAUNCH } from './launch.ts'
export { type Meshd, type MeshdOptions, startMeshd } from './meshd.ts'
export { Metrics } from './monitoring/metrics.ts'
export { createMonitoringServer, type MonitoringOptions } from './monitoring/server.ts'
export { DOMAIN_SUFFIX, resolveHost, serviceFqdn, serviceHostnames } from './registry/hosts.ts'
export { type Protocol, portProtocol } from './registry/protocol.ts'
export {
  buildRegistry,
  type Endpoint,
  type PodInfo,
  type Registry,
  type Service,
  type ServicePort,
} from './registry/registry.ts'
export { type ConfigSnapshot, type ConfigStatus, SnapshotBuilder } from './snapshot.ts'

/** @deprecated Renamed ConfigSnapshot (the proxy's compiled configuration is its XdsSnapshot). */
export type Snapshot = ConfigSnapshot
export { DirectorySource, type DirectorySourceOptions } from './sources/directory.ts'
export { KubernetesSource, type KubernetesSourceOptions, loadKubeConfig } from './sources/kubernetes.ts'
export { type ConfigSink, type ConfigSource, objectKey } from './sources/source.ts'
export { ConfigStore, type StoredObject } from './store.ts'
export { compileAuthorization, compileAuthorizationPolicy } from './translate/authorization.ts'
export {
  flatten,
  type GeneratedConfig,
  generate,
  type ProxyConfig,
  type ProxyInfo,
  proxyFromNode,
  pushContextOf,
  type ResourceGroup,
  translate,
} from './translate/index.ts'
export { type DebounceBatch, type DebounceOptions, Debouncer } from './xds/debounce.ts'
export { type AckEvent, DiscoveryServer, type DiscoveryServerOptions } from './xds/server.ts'
