// The labels and annotations the injector reads and writes (Istio's, under minimesh's domain).

/** Namespace label that opts every pod in the namespace in: `minimesh-injection=enabled`. */
export const NAMESPACE_INJECTION_LABEL = 'minimesh-injection'

/**
 * Per-pod opt-in/opt-out, `"true"` or `"false"`. As an annotation it is read by the webhook logic;
 * as a label it is also seen by the MutatingWebhookConfiguration's objectSelector (selectors cannot
 * see annotations). The label wins when both are set.
 */
export const INJECT_ANNOTATION = 'sidecar.minimesh.dev/inject'
export const INJECT_LABEL = 'sidecar.minimesh.dev/inject'

/** Marker on an injected pod: JSON of what was added (see SidecarStatus). */
export const STATUS_ANNOTATION = 'sidecar.minimesh.dev/status'

/** `"false"` keeps the app's HTTP/TCP probes as they are (they then go through capture). */
export const REWRITE_PROBES_ANNOTATION = 'sidecar.minimesh.dev/rewriteAppHTTPProbers'

/**
 * Lifetime of the pod's workload certificate (`1h`, `90s`; the proxy renews at half of it), as
 * Istio's SECRET_TTL proxy setting; meshd's --max-workload-cert-ttl caps it. Only with a mesh CA.
 */
export const WORKLOAD_CERT_TTL_ANNOTATION = 'sidecar.minimesh.dev/workloadCertTTL'
export const WORKLOAD_CERT_TTL_ENV = 'MESH_WORKLOAD_CERT_TTL'

/** Capture tuning per pod, as Istio's `traffic.sidecar.istio.io/*`; each maps to one mesh-init flag. */
export const TrafficAnnotation = {
  /** -i: outbound CIDRs to capture ('*' = all). */
  includeOutboundIPRanges: 'traffic.sidecar.minimesh.dev/includeOutboundIPRanges',
  /** -x: outbound CIDRs never captured. */
  excludeOutboundIPRanges: 'traffic.sidecar.minimesh.dev/excludeOutboundIPRanges',
  /** -b: inbound ports to capture ('*' = all). */
  includeInboundPorts: 'traffic.sidecar.minimesh.dev/includeInboundPorts',
  /** -d: inbound ports never captured (added to the proxy's own ports). */
  excludeInboundPorts: 'traffic.sidecar.minimesh.dev/excludeInboundPorts',
  /** -o: outbound ports never captured. */
  excludeOutboundPorts: 'traffic.sidecar.minimesh.dev/excludeOutboundPorts',
  /** -q: outbound ports always captured. */
  includeOutboundPorts: 'traffic.sidecar.minimesh.dev/includeOutboundPorts',
} as const

export const PROMETHEUS_ANNOTATIONS = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const

/** kubectl logs/exec pick this container when none is named (the app's, not the proxy's). */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container'

/**
 * Per-pod choice of the proxy's placement, `"true"` or `"false"`: a native sidecar (an init
 * container with `restartPolicy: Always`, Kubernetes ≥ 1.29) or a classic one in `containers`.
 * Absent: the injector's `nativeSidecars` setting (meshd: from the API server's version).
 */
export const NATIVE_SIDECAR_ANNOTATION = 'sidecar.minimesh.dev/nativeSidecar'

/**
 * Classic placement only: `"false"` lets the app start beside a proxy that is not ready yet.
 * By default the proxy is the first container and its postStart hook (`mesh-proxy wait`) holds the
 * app's start until the proxy is ready (Istio's holdApplicationUntilProxyStarts).
 */
export const HOLD_APPLICATION_ANNOTATION = 'sidecar.minimesh.dev/holdApplicationUntilProxyStarts'

export const INIT_CONTAINER_NAME = 'mesh-init'
export const PROXY_CONTAINER_NAME = 'mesh-proxy'
export const PROXY_VOLUME_NAME = 'mesh-proxy-data'
/** Where the proxy may write (its root filesystem is read-only). */
export const PROXY_DATA_DIR = '/var/run/minimesh'

/**
 * Per-pod trace sampling percentage (0–100) over the mesh default, as Istio's
 * `proxy.istio.io/config: {tracing: {sampling: N}}`; the sidecar gets it as MESH_TRACE_SAMPLING.
 */
export const TRACING_SAMPLING_ANNOTATION = 'tracing.minimesh.dev/sampling'

/** Sidecar env the proxy reads to answer rewritten probes on its status port. */
export const APP_PROBERS_ENV = 'MESH_KUBE_APP_PROBERS'

/**
 * The projected ServiceAccount token the proxy shows meshd's CA (audience `minimesh-ca`, 12 h),
 * mounted read-only at `/var/run/secrets/tokens/minimesh-token`; added only with a mesh CA.
 */
export const TOKEN_VOLUME_NAME = 'minimesh-token'
export const TOKEN_DIR = '/var/run/secrets/tokens'
export const TOKEN_AUDIENCE = 'minimesh-ca'
export const TOKEN_EXPIRATION_SECONDS = 43_200

/** Sidecar env with the mesh roots (PEM): the proxy then gets its certificate from meshd's CA. */
export const CA_ROOT_CERT_ENV = 'MESH_CA_ROOT_CERT'

/**
 * Pod label naming the injection template (Istio: `inject.istio.io/templates`, a label here so the
 * MutatingWebhookConfiguration's objectSelector can see it). `gateway`: the pod runs the mesh's
 * proxy itself (an ingress gateway) and only that container gets the mesh identity; no init
 * container, no sidecar. Absent or `sidecar`: the usual sidecar injection.
 */
export const TEMPLATE_LABEL = 'sidecar.minimesh.dev/template'
export const GATEWAY_TEMPLATE = 'gateway'
export const SIDECAR_TEMPLATE = 'sidecar'
