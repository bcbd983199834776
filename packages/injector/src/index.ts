export {
  type CertificateBundle,
  type GenerateCertificatesOptions,
  generateCertificates,
  serviceDnsNames,
} from './certs.ts'
export { DEFAULT_INJECT_CONFIG, type InjectConfig, resolveInjectConfig } from './config.ts'
export { InjectError, type InjectErrorCode } from './errors.ts'
export { type InjectContext, inject, isInjected } from './inject/inject.ts'
export { type InjectDecision, type NamespaceInfo, shouldInject } from './inject/policy.ts'
export { type AppProber, appHealthPath } from './inject/probes.ts'
export { injectResource, type ResourceResult, uninjectResource } from './inject/resources.ts'
export {
  findProxy,
  isNativeSidecar,
  type ProxyLocation,
  type SidecarPlacement,
  sidecarPlacement,
} from './inject/sidecar.ts'
export { parseStatus, type SidecarStatus } from './inject/status.ts'
export { initArgs } from './inject/traffic.ts'
export { uninject } from './inject/uninject.ts'
export { workloadName } from './inject/workload.ts'
export * from './names.ts'
export { type WebhookConfigurationOptions, webhookConfigurations } from './webhook/configurations.ts'
export type { NamespaceLookup } from './webhook/mutate.ts'
export { escapePointerToken, jsonPatch, type PatchOperation } from './webhook/patch.ts'
export type { AdmissionRequest, AdmissionResponse, AdmissionReview } from './webhook/review.ts'
export {
  createWebhookServer,
  type WebhookServer,
  type WebhookServerOptions,
  type WebhookStats,
} from './webhook/server.ts'
