// meshctl install / uninstall and the kind tooling, as a library (the kind e2e driver uses it).

export type { KubeObject } from '@minimesh/api/kube'
export {
  applyOrder,
  type CrdConflict,
  deleteOrder,
  findCrdConflicts,
  type InstallOptions,
  installObjects,
  type KubeApi,
  ownedByMinimesh,
  type UninstallOptions,
  uninstallObjects,
} from './apply.ts'
export { InstallError, type InstallErrorCode } from './errors.ts'
export {
  checkKindPrerequisites,
  GATEWAY_HOST_PORT,
  GATEWAY_NODE_PORT,
  type ImageSpec,
  KIND_CLUSTER,
  KIND_CONTEXT,
  nodeFetchArgv,
  parseImagesList,
  parseNodeFetchOutput,
  readImagesList,
  repoRoot,
} from './kind.ts'
export {
  type ClusterInfo,
  describeRef,
  type ExecResult,
  FIELD_MANAGER,
  Kube,
  type KubeTarget,
  type ObjectRef,
  refOf,
} from './kube.ts'
export { appContainer, CLUSTER_SCOPED_KINDS, parseObjects, proxiesSynced } from './objects.ts'
export { deploymentRollout, podReady, podsReadiness, type WaitState, waitUntil } from './wait.ts'
