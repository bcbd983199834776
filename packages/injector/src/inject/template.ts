// The containers and volume injection adds. Names, args and env are fixed by the contract
// between the injector, mesh-init and the proxy (/work/helper-contracts.md, "Injection").
import type { Container, EnvVar, Labels, Volume, VolumeMount } from '@minimesh/api/kube'
import { PROXY_PORT_NAMES } from '@minimesh/api/ports'
import type { InjectConfig } from '../config.ts'
import { cloneJson } from '../kube.ts'
import {
  APP_PROBERS_ENV,
  CA_ROOT_CERT_ENV,
  INIT_CONTAINER_NAME,
  PROXY_CONTAINER_NAME,
  PROXY_DATA_DIR,
  PROXY_VOLUME_NAME,
  TOKEN_AUDIENCE,
  TOKEN_DIR,
  TOKEN_EXPIRATION_SECONDS,
  TOKEN_VOLUME_NAME,
  WORKLOAD_CERT_TTL_ENV,
} from '../names.ts'
import type { AppProber } from './probes.ts'
import type { SidecarPlacement } from './sidecar.ts'

/** The init container: installs the pod's capture rules, then exits. */
export function initContainer(config: InjectConfig, args: string[]): Container {
  const c: Container = {
    name: INIT_CONTAINER_NAME,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    command: ['mesh-init'],
    args,
  }
  if (config.initResources) c.resources = cloneJson(config.initResources)
  c.securityContext = {
    runAsUser: 0,
    runAsGroup: 0,
    runAsNonRoot: false,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: false,
    capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
  }
  return c
}

function fieldRef(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } }
}

export interface ProxyContainerContext {
  workloadName: string
  labels: Labels
  appPorts: number[]
  probers: Record<string, AppProber>
  /** Where the proxy goes (sidecar.ts): native adds restartPolicy Always and a startupProbe. */
  placement?: SidecarPlacement
  /** The pod's workload certificate lifetime (annotation), passed on with a mesh CA. */
  certTtl?: string | undefined
  /** MESH_TRACE_* (inject/tracing.ts). */
  tracingEnv?: EnvVar[]
}

/**
 * The sidecar: the proxy, as the proxy uid/gid (never captured), read-only root filesystem. Its
 * flags name every port the injector chose, so that it binds where mesh-init redirects and where
 * the rewritten probes and the sidecar's own probes ask (a default is spelt out too: the pod says
 * what it runs with, and a proxy of another version with other defaults still agrees).
 */
export function proxyContainer(config: InjectConfig, ctx: ProxyContainerContext): Container {
  const env: EnvVar[] = [
    fieldRef('POD_NAME', 'metadata.name'),
    fieldRef('POD_NAMESPACE', 'metadata.namespace'),
    fieldRef('INSTANCE_IP', 'status.podIP'),
    fieldRef('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    { name: 'MESH_WORKLOAD_NAME', value: ctx.workloadName },
    { name: 'MESH_POD_LABELS', value: JSON.stringify(ctx.labels) },
    { name: 'MESH_APP_PORTS', value: ctx.appPorts.join(',') },
    { name: 'MESH_DISCOVERY_ADDRESS', value: config.discoveryAddress },
  ]
  if (config.caRootCert !== undefined) {
    env.push({ name: CA_ROOT_CERT_ENV, value: config.caRootCert })
    if (ctx.certTtl !== undefined) env.push({ name: WORKLOAD_CERT_TTL_ENV, value: ctx.certTtl })
  }
  if (Object.keys(ctx.probers).length) env.push({ name: APP_PROBERS_ENV, value: JSON.stringify(ctx.probers) })
  if (ctx.tracingEnv) env.push(...ctx.tracingEnv)
  const c: Container = {
    name: PROXY_CONTAINER_NAME,
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    command: ['mesh-proxy'],
    // The token's path is spelt out (it is the proxy's default) so that a runtime that maps mount
    // paths in args (the local cluster) points the proxy at its copy.
    args: [
      'sidecar',
      '--discovery-address',
      config.discoveryAddress,
      ...proxyPortArgs(config),
      ...(config.caRootCert !== undefined ? ['--token-file', `${TOKEN_DIR}/${TOKEN_VOLUME_NAME}`] : []),
      // A native sidecar is stopped after the app: nothing is left to keep serving on SIGTERM.
      ...(ctx.placement?.native ? ['--min-drain-seconds', '0'] : []),
    ],
    ports: [
      { name: PROXY_PORT_NAMES.prometheus, containerPort: config.promPort, protocol: 'TCP' },
      { name: PROXY_PORT_NAMES.status, containerPort: config.statusPort, protocol: 'TCP' },
      { name: PROXY_PORT_NAMES.health, containerPort: config.healthPort, protocol: 'TCP' },
    ],
    env,
    readinessProbe: {
      httpGet: { path: '/healthz/ready', port: config.healthPort, scheme: 'HTTP' },
      initialDelaySeconds: 1,
      periodSeconds: 2,
      timeoutSeconds: 3,
      failureThreshold: 30,
    },
  }
  if (ctx.placement?.native) {
    // The kubelet starts the next init container (and then the app) once this probe passes, and
    // stops the proxy only after the app has exited.
    c.restartPolicy = 'Always'
    c.startupProbe = {
      httpGet: { path: '/healthz/ready', port: config.healthPort, scheme: 'HTTP' },
      initialDelaySeconds: 0,
      periodSeconds: 1,
      timeoutSeconds: 3,
      failureThreshold: 600,
    }
  } else if (ctx.placement?.hold) {
    // The kubelet starts the next container only when postStart returns: the app waits for the proxy.
    c.lifecycle = {
      postStart: {
        exec: {
          command: ['mesh-proxy', 'wait', '--health-port', String(config.healthPort), '--timeout', '600'],
        },
      },
    }
  }
  if (config.proxyResources) c.resources = cloneJson(config.proxyResources)
  c.securityContext = {
    runAsUser: config.proxyUid,
    runAsGroup: config.proxyGid,
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  }
  const mounts: VolumeMount[] = [{ name: PROXY_VOLUME_NAME, mountPath: PROXY_DATA_DIR }]
  if (config.caRootCert !== undefined)
    mounts.push({ name: TOKEN_VOLUME_NAME, mountPath: TOKEN_DIR, readOnly: true })
  c.volumeMounts = mounts
  return c
}

/** mesh-proxy's port flags for the ports of this config (the ones mesh-init is told too). */
function proxyPortArgs(config: InjectConfig): string[] {
  return [
    '--outbound-port',
    String(config.outboundCapturePort),
    '--inbound-port',
    String(config.inboundCapturePort),
    '--stats-port',
    String(config.statusPort),
    '--health-port',
    String(config.healthPort),
    '--prom-port',
    String(config.promPort),
  ]
}

/** The proxy's writable directory (its root filesystem is read-only). */
export function proxyVolume(): Volume {
  return { name: PROXY_VOLUME_NAME, emptyDir: { medium: 'Memory' } }
}

/**
 * The ServiceAccount token the proxy shows meshd's CA: projected by the kubelet for the audience
 * minimesh-ca only (a token for the API server is not accepted by the CA, and this one is not
 * accepted by the API server), rotated by the kubelet before it expires.
 */
export function tokenVolume(): Volume {
  return {
    name: TOKEN_VOLUME_NAME,
    projected: {
      sources: [
        {
          serviceAccountToken: {
            audience: TOKEN_AUDIENCE,
            expirationSeconds: TOKEN_EXPIRATION_SECONDS,
            path: TOKEN_VOLUME_NAME,
          },
        },
      ],
    },
  }
}
