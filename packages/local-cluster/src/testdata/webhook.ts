// The injector webhook served by a test's own webhook server standing in for meshd: the cluster
// reaches it, as it would reach meshd's, through meshd's Service in minimesh-system.

/** meshd's Service, as webhookConfigurations() names it. */
export const MESHD_SERVICE = { namespace: 'minimesh-system', name: 'meshd' }

/**
 * The namespace minimesh-system and meshd's Service in it, without a selector: its Endpoints point
 * at the webhook server on 127.0.0.1:port.
 */
export function meshdServiceAt(port: number): Record<string, unknown>[] {
  const metadata = { name: MESHD_SERVICE.name, namespace: MESHD_SERVICE.namespace }
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MESHD_SERVICE.namespace } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { ports: [{ name: 'https-webhook', port: 443, targetPort: 15017 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata,
      subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https-webhook', port }] }],
    },
  ]
}
