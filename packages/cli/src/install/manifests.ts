// The install manifests: everything `meshctl install` applies to a Kubernetes cluster and the local
// cluster runs as is. The CRDs (from @minimesh/api's schemas), the minimesh-system namespace,
// meshd with least-privilege RBAC, its webhook serving certificate in a Secret, the webhook
// configurations (from @minimesh/injector, caBundle filled), and the ingress gateway.
import { allCrds, MESH_KINDS } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import {
  PROXY_HEALTH_PORT,
  PROXY_PORT_NAMES,
  PROXY_PROMETHEUS_PORT,
  PROXY_STATUS_PORT,
  PROXY_UID,
} from '@minimesh/api/ports'
import {
  type CertificateBundle,
  GATEWAY_TEMPLATE,
  generateCertificates,
  serviceDnsNames,
  TEMPLATE_LABEL,
  webhookConfigurations,
} from '@minimesh/injector'
import { cliVersion } from '../commands/version.ts'
import { addTracing, type TracingInstallOptions } from './tracing.ts'

export interface InstallOptions {
  /** Namespace of the control plane and gateway (default minimesh-system). */
  namespace?: string
  /** Image repository prefix (default `minimesh`: minimesh/meshd, minimesh/proxy). */
  hub?: string
  /** Image tag (default: this meshctl's version). */
  tag?: string
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'
  /** The webhook CA and serving certificate; generated when absent. */
  certificates?: CertificateBundle
  /** Leave the ingress gateway out. */
  withoutGateway?: boolean
  /** Spans from every proxy to this collector (meshd --trace-*, the gateway's MESH_TRACE_*). */
  tracing?: TracingInstallOptions
}

export const MESHD = 'meshd'
const GATEWAY = 'minimesh-ingressgateway'
export const WEBHOOK_SECRET = 'meshd-webhook-tls'
const WEBHOOK_DIR = '/etc/minimesh/webhook'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const fieldEnv = (name: string, fieldPath: string) => ({
  name,
  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
})
const partOf = { 'app.kubernetes.io/part-of': 'minimesh' }

/**
 * ClusterRole rules: read Services, Endpoints, EndpointSlices, Pods, Namespaces, Secrets and the
 * mesh kinds; create TokenReviews (the CA checks callers' ServiceAccount tokens); nothing else.
 */
function meshdRules(): Record<string, unknown>[] {
  const read = ['get', 'list', 'watch']
  const groups = [...new Set(MESH_KINDS.map((k) => k.group))].sort()
  return [
    { apiGroups: [''], resources: ['services', 'endpoints', 'pods', 'namespaces'], verbs: read },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
    // Gateway credentialName certificates, in whatever namespace the gateway pods run (Istio's
    // istiod reads Secrets cluster-wide too); meshd keeps only their TLS keys.
    { apiGroups: [''], resources: ['secrets'], verbs: read },
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    ...groups.map((group) => ({
      apiGroups: [group],
      resources: MESH_KINDS.filter((k) => k.group === group)
        .map((k) => k.plural)
        .sort(),
      verbs: read,
    })),
    // Each mesh resource's outcome (Accepted/Rejected, observedGeneration) written to its status.
    ...groups.map((group) => ({
      apiGroups: [group],
      resources: MESH_KINDS.filter((k) => k.group === group)
        .map((k) => `${k.plural}/status`)
        .sort(),
      verbs: ['get', 'patch', 'update'],
    })),
  ]
}

function meshd(ns: string, image: string, pullPolicy: string): KubeObject[] {
  const labels = { app: MESHD, minimesh: MESHD, ...partOf }
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: MESHD, namespace: ns, labels },
      spec: {
        selector: { app: MESHD },
        ports: [
          { name: 'grpc-xds', port: 15010, targetPort: 15010, protocol: 'TCP' },
          { name: 'grpc-xds-tls', port: 15012, targetPort: 15012, protocol: 'TCP' },
          { name: 'http-monitoring', port: 15014, targetPort: 15014, protocol: 'TCP' },
          { name: 'https-webhook', port: 443, targetPort: 15017, protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: MESHD, namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: MESHD } },
        template: {
          metadata: {
            labels: { app: MESHD, minimesh: MESHD, 'sidecar.minimesh.dev/inject': 'false' },
          },
          spec: {
            serviceAccountName: MESHD,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: PROXY_UID,
              runAsGroup: PROXY_UID,
              fsGroup: PROXY_UID,
            },
            containers: [
              {
                name: 'discovery',
                image,
                imagePullPolicy: pullPolicy,
                command: ['meshd'],
                args: ['--webhook-cert', `${WEBHOOK_DIR}/tls.crt`, '--webhook-key', `${WEBHOOK_DIR}/tls.key`],
                ports: [
                  { name: 'grpc-xds', containerPort: 15010, protocol: 'TCP' },
                  { name: 'grpc-xds-tls', containerPort: 15012, protocol: 'TCP' },
                  { name: 'http-monitoring', containerPort: 15014, protocol: 'TCP' },
                  { name: 'https-webhook', containerPort: 15017, protocol: 'TCP' },
                ],
                env: [
                  fieldEnv('POD_NAME', 'metadata.name'),
                  fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                  // A SAN of meshd's 15012 serving certificate.
                  fieldEnv('POD_IP', 'status.podIP'),
                ],
                readinessProbe: {
                  httpGet: { path: '/healthz/ready', port: 15014 },
                  initialDelaySeconds: 1,
                  periodSeconds: 2,
                  failureThreshold: 3,
                },
                resources: { requests: { cpu: '100m', memory: '128Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [{ name: 'webhook-tls', mountPath: WEBHOOK_DIR, readOnly: true }],
              },
            ],
            volumes: [{ name: 'webhook-tls', secret: { secretName: WEBHOOK_SECRET } }],
          },
        },
      },
    },
  ]
}

/**
 * The ingress gateway: mesh-proxy in router mode. Its pods are labelled for the injector's gateway
 * template, which gives the proxy the mesh identity (roots, CA token, --token-file) that these
 * manifests cannot carry: meshd makes the root at its first start. Until meshd answers the webhook
 * the API server refuses the pod and the ReplicaSet controller tries again.
 */
function gateway(ns: string, image: string, pullPolicy: string): KubeObject[] {
  const podLabels = { app: GATEWAY, minimesh: 'ingressgateway', [TEMPLATE_LABEL]: GATEWAY_TEMPLATE }
  const discovery = `${MESHD}.${ns}.svc:15010`
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: GATEWAY, namespace: ns, labels: partOf } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: GATEWAY,
        namespace: ns,
        labels: { app: GATEWAY, minimesh: 'ingressgateway', ...partOf },
      },
      spec: {
        type: 'LoadBalancer',
        selector: { minimesh: 'ingressgateway' },
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'status-port', port: PROXY_HEALTH_PORT, targetPort: PROXY_HEALTH_PORT, protocol: 'TCP' },
        ],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: GATEWAY,
        namespace: ns,
        labels: { app: GATEWAY, minimesh: 'ingressgateway', ...partOf },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: { minimesh: 'ingressgateway' } },
        template: {
          metadata: { labels: podLabels },
          spec: {
            serviceAccountName: GATEWAY,
            securityContext: { runAsNonRoot: true, runAsUser: PROXY_UID, runAsGroup: PROXY_UID },
            containers: [
              {
                name: 'mesh-proxy',
                image,
                imagePullPolicy: pullPolicy,
                command: ['mesh-proxy'],
                args: ['router', '--discovery-address', discovery],
                ports: [
                  { name: 'http', containerPort: 8080, protocol: 'TCP' },
                  { name: PROXY_PORT_NAMES.status, containerPort: PROXY_STATUS_PORT, protocol: 'TCP' },
                  { name: PROXY_PORT_NAMES.health, containerPort: PROXY_HEALTH_PORT, protocol: 'TCP' },
                  {
                    name: PROXY_PORT_NAMES.prometheus,
                    containerPort: PROXY_PROMETHEUS_PORT,
                    protocol: 'TCP',
                  },
                ],
                env: [
                  fieldEnv('POD_NAME', 'metadata.name'),
                  fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
                  fieldEnv('INSTANCE_IP', 'status.podIP'),
                  fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
                  { name: 'MESH_WORKLOAD_NAME', value: GATEWAY },
                  {
                    name: 'MESH_POD_LABELS',
                    value: JSON.stringify({ app: GATEWAY, minimesh: 'ingressgateway' }),
                  },
                  { name: 'MESH_DISCOVERY_ADDRESS', value: discovery },
                ],
                readinessProbe: {
                  httpGet: { path: '/healthz/ready', port: PROXY_HEALTH_PORT },
                  initialDelaySeconds: 1,
                  periodSeconds: 2,
                  failureThreshold: 30,
                },
                resources: { requests: { cpu: '100m', memory: '64Mi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    },
  ]
}

/** Every object of the install, in apply order. */
export async function installManifests(options: InstallOptions = {}): Promise<KubeObject[]> {
  const ns = options.namespace ?? 'minimesh-system'
  const hub = options.hub ?? 'minimesh'
  const tag = options.tag ?? cliVersion()
  const pull = options.imagePullPolicy ?? 'IfNotPresent'
  const certs =
    options.certificates ??
    (await generateCertificates({ dnsNames: serviceDnsNames(MESHD, ns), ipAddresses: ['127.0.0.1'] }))
  const { mutating, validating } = webhookConfigurations({
    caBundle: certs.caCert,
    service: { namespace: ns, name: MESHD },
  })
  const objects: KubeObject[] = [
    ...allCrds(),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...partOf } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: MESHD, namespace: ns, labels: partOf } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `minimesh-${MESHD}-${ns}`, labels: partOf },
      rules: meshdRules(),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `minimesh-${MESHD}-${ns}`, labels: partOf },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `minimesh-${MESHD}-${ns}`,
      },
      subjects: [{ kind: 'ServiceAccount', name: MESHD, namespace: ns }],
    },
    // The mesh CA's Secrets in meshd's own namespace: its root (minimesh-ca, made at first start)
    // and a plug-in CA (cacerts) when an operator provides one.
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `minimesh-${MESHD}`, namespace: ns, labels: partOf },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: ['minimesh-ca', 'cacerts'],
          verbs: ['get', 'update'],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `minimesh-${MESHD}`, namespace: ns, labels: partOf },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `minimesh-${MESHD}` },
      subjects: [{ kind: 'ServiceAccount', name: MESHD, namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: WEBHOOK_SECRET, namespace: ns, labels: partOf },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64(certs.cert), 'tls.key': b64(certs.key), 'ca.crt': b64(certs.caCert) },
    },
    ...meshd(ns, `${hub}/meshd:${tag}`, pull),
    mutating,
    validating,
    ...(options.withoutGateway ? [] : gateway(ns, `${hub}/proxy:${tag}`, pull)),
  ]
  return addTracing(objects, options.tracing)
}
