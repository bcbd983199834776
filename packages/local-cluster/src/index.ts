// @minimesh/local-cluster: a Kubernetes-shaped cluster on one Linux host, every pod a network namespace.
export { Admission } from './admission/admission.ts'
export { type AdmissionResponse, callWebhook } from './admission/client.ts'
export {
  type AdmissionAttributes,
  admissionReview,
  matchingWebhooks,
  type Webhook,
  type WebhookConfiguration,
  webhookMatches,
} from './admission/webhooks.ts'
export {
  type ApplyResult,
  DEFAULT_NETWORK,
  LAST_APPLIED,
  LocalCluster,
  type LocalClusterOptions,
  type ReadinessSummary,
  startLocalCluster,
  type WaitOptions,
} from './cluster.ts'
export { INSTALL_HOST_TOOLS_HINT, LocalClusterError, type LocalClusterErrorCode } from './errors.ts'
export {
  checkoutRoot,
  containerArgv,
  defaultImageTable,
  findImage,
  type ImageEntry,
  type ImageTable,
  imageRepository,
  missingEntrypoints,
  nodeEntry,
} from './images.ts'
export { formatRef, KINDS, type KindInfo, kindByName, kindOf, type ObjectRef } from './kube/kinds.ts'
export { matchesSelector, parseSelector } from './kube/selector.ts'
export { Ledger, type LedgerData } from './ledger.ts'
export { createLogger, silentLogger } from './log.ts'
export { cleanupHost } from './net/cleanup.ts'
export { type HostExec, RecordingExec, SpawnExec } from './net/exec.ts'
export { renderHostsFile } from './net/hosts-file.ts'
export { netnsName, vethNames } from './net/names.ts'
export { checkRoot, checkTools } from './net/preflight.ts'
export { baseRules, hookRules, serviceRules } from './net/service-rules.ts'
export { DEFAULT_RUN_DIR, defaultRunDir, runPaths } from './paths.ts'
export { stateFilePath } from './state-dir.ts'
export { LocalClusterClient } from './supervisor/client.ts'
export { startSupervisor, stopSupervisor, supervisorStatus } from './supervisor/control.ts'
export { type ExecResult, type ExecSpec, execArgv } from './workload/exec.ts'
