// Pods for the golden table: each is a pod as the API server would send it (or as a manifest
// holds it), with the namespace it lives in.
import type { Labels, PodTemplateSpec } from '@minimesh/api/kube'

export interface PodCase {
  name: string
  about: string
  pod: PodTemplateSpec
  /** The namespace's labels; undefined = unknown (webhook without a lookup). */
  namespaceLabels?: Labels
}

const ENABLED = { 'minimesh-injection': 'enabled' }

/** productpage-v1 as the ReplicaSet controller creates it (Bookinfo shape, API-server defaults filled in). */
export function productpagePod(): PodTemplateSpec {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'productpage-v1-6b746f74dc-',
      namespace: 'default',
      labels: { app: 'productpage', version: 'v1', 'pod-template-hash': '6b746f74dc' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'productpage-v1-6b746f74dc',
          uid: '3f0b7c2e-52a4-4c55-9d4b-0b8f6f0c1a11',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: 'bookinfo-productpage',
      serviceAccount: 'bookinfo-productpage',
      containers: [
        {
          name: 'productpage',
          image: 'minimesh/bookinfo-productpage:0.1.0',
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 9080, protocol: 'TCP' }],
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          volumeMounts: [
            { name: 'tmp', mountPath: '/tmp' },
            {
              name: 'kube-api-access-7xk2p',
              readOnly: true,
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
            },
          ],
        },
      ],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        {
          name: 'kube-api-access-7xk2p',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
  }
}

function simple(
  name: string,
  meta: PodTemplateSpec['metadata'] = {},
  spec: Partial<NonNullable<PodTemplateSpec['spec']>> = {},
): PodTemplateSpec {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: name }, ...meta },
    spec: {
      containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: 8080 }] }],
      ...spec,
    },
  }
}

export const CASES: PodCase[] = [
  {
    name: 'opt-in-namespace',
    about: 'productpage-v1 from its ReplicaSet in a namespace labelled minimesh-injection=enabled',
    pod: productpagePod(),
    namespaceLabels: ENABLED,
  },
  {
    name: 'opt-in-unknown-namespace',
    about: 'no namespace lookup: the webhook configuration already selected the namespace',
    pod: simple('web'),
  },
  {
    name: 'opt-out-annotation',
    about: 'enabled namespace, pod annotated sidecar.minimesh.dev/inject: "false"',
    pod: simple('batch', { annotations: { 'sidecar.minimesh.dev/inject': 'false' } }),
    namespaceLabels: ENABLED,
  },
  {
    name: 'opt-in-annotation',
    about: 'unlabelled namespace, pod annotated sidecar.minimesh.dev/inject: "true"',
    pod: simple('web', { annotations: { 'sidecar.minimesh.dev/inject': 'true' } }),
    namespaceLabels: {},
  },
  {
    name: 'opt-in-label',
    about: 'namespace labelled disabled, pod labelled sidecar.minimesh.dev/inject=true (label wins)',
    pod: simple('web', { labels: { app: 'web', 'sidecar.minimesh.dev/inject': 'true' } }),
    namespaceLabels: { 'minimesh-injection': 'disabled' },
  },
  {
    name: 'namespace-not-labelled',
    about: 'a namespace without the label and a pod without opinions',
    pod: simple('web'),
    namespaceLabels: { team: 'a' },
  },
  {
    name: 'host-network',
    about: 'hostNetwork pods are never injected, whatever they ask for',
    pod: simple(
      'node-agent',
      { annotations: { 'sidecar.minimesh.dev/inject': 'true' } },
      { hostNetwork: true },
    ),
    namespaceLabels: ENABLED,
  },
  {
    name: 'mesh-namespace',
    about: "the mesh's own pods (namespace minimesh-system) are never injected",
    pod: simple('meshd', { namespace: 'minimesh-system' }),
    namespaceLabels: ENABLED,
  },
  {
    name: 'probes',
    about:
      'httpGet (named port, HTTPS, headers), tcpSocket and startup probes rewritten; exec, grpc and host probes kept',
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probed', namespace: 'default', labels: { app: 'probed' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'example/web:1',
            ports: [
              { name: 'http', containerPort: 8080 },
              { name: 'admin', containerPort: 8443 },
            ],
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 },
            livenessProbe: {
              httpGet: {
                path: '/live',
                port: 8443,
                scheme: 'HTTPS',
                httpHeaders: [{ name: 'X-Probe', value: 'kubelet' }],
              },
              timeoutSeconds: 3,
              failureThreshold: 5,
            },
            startupProbe: { tcpSocket: { port: 8080 }, failureThreshold: 30, periodSeconds: 2 },
          },
          {
            name: 'worker',
            image: 'example/worker:1',
            livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] } },
            readinessProbe: { grpc: { port: 9090 } },
            startupProbe: { httpGet: { host: '10.0.0.1', path: '/', port: 80 } },
          },
        ],
      },
    },
    namespaceLabels: ENABLED,
  },
  {
    name: 'probes-not-rewritten',
    about: 'sidecar.minimesh.dev/rewriteAppHTTPProbers: "false" keeps the probes',
    pod: simple(
      'web',
      { annotations: { 'sidecar.minimesh.dev/rewriteAppHTTPProbers': 'false' } },
      {
        containers: [
          {
            name: 'app',
            image: 'example/app:1',
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
          },
        ],
      },
    ),
    namespaceLabels: ENABLED,
  },
  {
    name: 'several-containers',
    about: 'two app containers, an init container, volumes, own prometheus and kubectl annotations',
    pod: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'reviews-v2-0',
        namespace: 'bookinfo',
        labels: { app: 'reviews', version: 'v2' },
        annotations: {
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': '9464',
          'kubectl.kubernetes.io/default-container': 'reviews',
        },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'reviews-v2', controller: true },
        ],
      },
      spec: {
        initContainers: [{ name: 'migrate', image: 'example/migrate:1', command: ['migrate', 'up'] }],
        containers: [
          {
            name: 'reviews',
            image: 'minimesh/bookinfo-reviews:0.1.0',
            ports: [{ containerPort: 9080 }, { containerPort: 9464, name: 'metrics' }],
            env: [{ name: 'LOG_DIR', value: '/tmp/logs' }],
          },
          {
            name: 'log-shipper',
            image: 'example/shipper:1',
            ports: [{ containerPort: 24224 }, { containerPort: 5140, protocol: 'UDP' }],
          },
        ],
        volumes: [{ name: 'logs', emptyDir: {} }],
      },
    },
    namespaceLabels: ENABLED,
  },
  {
    name: 'traffic-annotations',
    about: 'traffic.sidecar.minimesh.dev/* annotations become mesh-init flags',
    pod: simple('web', {
      annotations: {
        'traffic.sidecar.minimesh.dev/excludeOutboundPorts': '5432, 6379',
        'traffic.sidecar.minimesh.dev/excludeInboundPorts': '9901',
        'traffic.sidecar.minimesh.dev/excludeOutboundIPRanges': '169.254.169.254/32,10.96.0.1',
        'traffic.sidecar.minimesh.dev/includeInboundPorts': '8080',
      },
    }),
    namespaceLabels: ENABLED,
  },
  {
    name: 'bare-template',
    about:
      'a pod template without metadata, init containers or volumes (kube-inject of a minimal Deployment)',
    pod: { spec: { containers: [{ name: 'app', image: 'example/app:1' }] } },
  },
  {
    name: 'native-annotation',
    about: 'sidecar.minimesh.dev/nativeSidecar: "true": the proxy goes to initContainers whatever the config',
    pod: simple('batch', { annotations: { 'sidecar.minimesh.dev/nativeSidecar': 'true' } }),
    namespaceLabels: ENABLED,
  },
  {
    name: 'no-hold-annotation',
    about: 'sidecar.minimesh.dev/holdApplicationUntilProxyStarts: "false": classic proxy last, no postStart',
    pod: simple('web', { annotations: { 'sidecar.minimesh.dev/holdApplicationUntilProxyStarts': 'false' } }),
    namespaceLabels: ENABLED,
  },
  {
    name: 'app-native-sidecar',
    about:
      "the pod's own native sidecar (restartable init container): its probe rewritten, its port an app port",
    pod: simple(
      'web',
      {},
      {
        initContainers: [
          { name: 'setup', image: 'example/setup:1' },
          {
            name: 'agent',
            image: 'example/agent:1',
            restartPolicy: 'Always',
            ports: [{ containerPort: 9100 }],
            readinessProbe: { httpGet: { path: '/ready', port: 9100 } },
          },
        ],
      },
    ),
    namespaceLabels: ENABLED,
  },
]

/**
 * The ingress gateway's pod as the ReplicaSet controller creates it from `meshctl install`'s
 * Deployment (labelled for the gateway template; API-server defaults and the ServiceAccount
 * admission's API token volume filled in).
 */
export function gatewayPod(): PodTemplateSpec {
  const discovery = 'meshd.minimesh-system.svc:15010'
  const field = (name: string, fieldPath: string) => ({
    name,
    valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } },
  })
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'minimesh-ingressgateway-7d9c8b6f5-',
      namespace: 'minimesh-system',
      labels: {
        app: 'minimesh-ingressgateway',
        minimesh: 'ingressgateway',
        'sidecar.minimesh.dev/template': 'gateway',
        'pod-template-hash': '7d9c8b6f5',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'minimesh-ingressgateway-7d9c8b6f5',
          uid: '9a3e41d0-7c1b-4f7e-8d8a-2c4b5e6f7a81',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      serviceAccountName: 'minimesh-ingressgateway',
      serviceAccount: 'minimesh-ingressgateway',
      securityContext: { runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337 },
      containers: [
        {
          name: 'mesh-proxy',
          image: 'minimesh/proxy:0.1.0',
          imagePullPolicy: 'IfNotPresent',
          command: ['mesh-proxy'],
          args: ['router', '--discovery-address', discovery],
          ports: [
            { name: 'http', containerPort: 8080, protocol: 'TCP' },
            { name: 'mesh-metrics', containerPort: 15020, protocol: 'TCP' },
            { name: 'mesh-health', containerPort: 15021, protocol: 'TCP' },
            { name: 'mesh-prom', containerPort: 15090, protocol: 'TCP' },
          ],
          env: [
            field('POD_NAME', 'metadata.name'),
            field('POD_NAMESPACE', 'metadata.namespace'),
            field('INSTANCE_IP', 'status.podIP'),
            field('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
            { name: 'MESH_WORKLOAD_NAME', value: 'minimesh-ingressgateway' },
            {
              name: 'MESH_POD_LABELS',
              value: '{"app":"minimesh-ingressgateway","minimesh":"ingressgateway"}',
            },
            { name: 'MESH_DISCOVERY_ADDRESS', value: discovery },
          ],
          readinessProbe: {
            httpGet: { path: '/healthz/ready', port: 15021, scheme: 'HTTP' },
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
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          volumeMounts: [
            {
              name: 'kube-api-access-q8m4z',
              readOnly: true,
              mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
            },
          ],
        },
      ],
      volumes: [
        {
          name: 'kube-api-access-q8m4z',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
    },
  }
}
