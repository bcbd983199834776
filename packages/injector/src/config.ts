import type { ResourceRequirements } from '@minimesh/api/kube'
import {
  INBOUND_CAPTURE_PORT,
  OUTBOUND_CAPTURE_PORT,
  PROXY_GID,
  PROXY_HEALTH_PORT,
  PROXY_PROMETHEUS_PORT,
  PROXY_STATUS_PORT,
  PROXY_UID,
} from '@minimesh/api/ports'
import { InjectError } from './errors.ts'

/** What the injector adds, and how. Every field has a default (DEFAULT_INJECT_CONFIG). */
export interface InjectConfig {
  /** Image of both the sidecar (`mesh-proxy`) and the init container (`mesh-init`). */
  image: string
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never'
  /** The control plane's discovery address, `host:port` (plaintext gRPC). */
  discoveryAddress: string
  /** uid and gid the proxy runs as (mesh-init -u/-g: its traffic is never captured). */
  proxyUid: number
  proxyGid: number
  /** mesh-init -p and mesh-proxy --outbound-port: the proxy's outbound capture listener. */
  outboundCapturePort: number
  /** mesh-init -z and mesh-proxy --inbound-port: the proxy's inbound capture listener. */
  inboundCapturePort: number
  /**
   * The proxy's ports on the pod IP (mesh-proxy --prom-port, --stats-port, --health-port; never
   * captured, mesh-init -d): its own Prometheus stats (Envoy-style), status (scraped metrics and
   * the rewritten app probes), health (the sidecar's readiness). See @minimesh/api/ports.
   */
  promPort: number
  statusPort: number
  healthPort: number
  /** Inbound ports never captured besides the proxy's own (mesh-init -d). */
  excludeInboundPorts: number[]
  /** Outbound ports never captured (mesh-init -o). */
  excludeOutboundPorts: number[]
  /** Outbound CIDRs never captured (mesh-init -x). */
  excludeOutboundCidrs: string[]
  /** Rewrite the app's httpGet and tcpSocket probes to the proxy's status port (Istio's default). */
  rewriteAppProbes: boolean
  /** Add prometheus.io/* scrape annotations pointing at the proxy's merged metrics. */
  prometheusAnnotations: boolean
  /** Namespaces whose pods are never injected (the mesh's own, Kubernetes' own). */
  neverInjectNamespaces: string[]
  proxyResources?: ResourceRequirements
  initResources?: ResourceRequirements
  /**
   * Put the proxy in `initContainers` with `restartPolicy: Always` (a native sidecar): started and
   * ready before the app, stopped after it, not holding a Job open. Only for clusters that run
   * native sidecars (Kubernetes ≥ 1.29; meshd decides from the API server's version, the local
   * cluster runs them). Off: the classic placement in `containers`. A pod's
   * `sidecar.minimesh.dev/nativeSidecar` annotation overrides it.
   */
  nativeSidecars: boolean
  /**
   * Classic placement: the proxy first in `containers` with a postStart hook that waits for its
   * readiness, so the app starts only once the proxy is ready. The annotation
   * `sidecar.minimesh.dev/holdApplicationUntilProxyStarts: "false"` turns it off for a pod.
   */
  holdApplicationUntilProxyStarts: boolean
  /**
   * PEM of the mesh roots (meshd's CA). When set, the sidecar gets MESH_CA_ROOT_CERT and the
   * projected ServiceAccount token `minimesh-token` (audience minimesh-ca), with which it asks
   * meshd's CA for its certificate and reaches meshd over TLS (15012). Absent: neither is added.
   */
  caRootCert?: string
  /**
   * Where sidecars send spans and what share of the traces they start is sampled (meshd's
   * --trace-collector, --trace-format, --trace-sampling); none: tracing off.
   */
  tracing?: { collector?: string; format?: 'zipkin' | 'otlp'; sampling?: number }
}

export const DEFAULT_INJECT_CONFIG: Readonly<InjectConfig> = Object.freeze({
  image: 'minimesh/proxy:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  discoveryAddress: 'meshd.minimesh-system.svc:15010',
  proxyUid: PROXY_UID,
  proxyGid: PROXY_GID,
  outboundCapturePort: OUTBOUND_CAPTURE_PORT,
  inboundCapturePort: INBOUND_CAPTURE_PORT,
  promPort: PROXY_PROMETHEUS_PORT,
  statusPort: PROXY_STATUS_PORT,
  healthPort: PROXY_HEALTH_PORT,
  excludeInboundPorts: [],
  excludeOutboundPorts: [],
  excludeOutboundCidrs: [],
  rewriteAppProbes: true,
  prometheusAnnotations: true,
  neverInjectNamespaces: ['minimesh-system', 'kube-system', 'kube-public', 'kube-node-lease'],
  proxyResources: { requests: { cpu: '10m', memory: '40Mi' } },
  initResources: { requests: { cpu: '10m', memory: '10Mi' } },
  nativeSidecars: false,
  holdApplicationUntilProxyStarts: true,
} satisfies InjectConfig)

function checkPort(name: string, n: unknown): void {
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 65535) {
    throw new InjectError('MESH_ERR_INJECT_BAD_CONFIG', `${name}: ${String(n)} is not a TCP port (1–65535)`)
  }
}

/** Fills the defaults in and checks ranges; throws InjectError MESH_ERR_INJECT_BAD_CONFIG. */
export function resolveInjectConfig(partial: Partial<InjectConfig> = {}): InjectConfig {
  const c: InjectConfig = { ...DEFAULT_INJECT_CONFIG, ...partial }
  for (const k of [
    'outboundCapturePort',
    'inboundCapturePort',
    'promPort',
    'statusPort',
    'healthPort',
  ] as const) {
    checkPort(k, c[k])
  }
  for (const p of [...c.excludeInboundPorts, ...c.excludeOutboundPorts]) checkPort('excluded port', p)
  for (const k of ['proxyUid', 'proxyGid'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      throw new InjectError('MESH_ERR_INJECT_BAD_CONFIG', `${k}: ${c[k]} must be a positive integer`)
    }
  }
  if (!c.image) throw new InjectError('MESH_ERR_INJECT_BAD_CONFIG', 'image: must not be empty')
  if (
    c.caRootCert !== undefined &&
    !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(c.caRootCert)
  ) {
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_CONFIG',
      'caRootCert: not a PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)',
    )
  }
  if (!/^[^\s:]+:\d+$/.test(c.discoveryAddress)) {
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_CONFIG',
      `discoveryAddress: "${c.discoveryAddress}" is not host:port`,
    )
  }
  const s = c.tracing?.sampling
  if (s !== undefined && !(s >= 0 && s <= 100))
    throw new InjectError('MESH_ERR_INJECT_BAD_CONFIG', `tracing.sampling: ${s} is not a percentage 0–100`)
  return c
}
