// What `meshctl install` changes in the generated manifests for the cluster at hand (pure):
// the gateway's node port (kind publishes node port 30080 on localhost:8080), a checksum of the
// webhook certificate on meshd's pod template (a new certificate rolls meshd, which reads it at
// start), and whether the certificate already in the cluster can be kept (no needless rotation).
import { createHash, X509Certificate } from 'node:crypto'
import type { Deployment, KubeObject, Service } from '@minimesh/api/kube'
import type { CertificateBundle } from '@minimesh/injector'

export const CERT_CHECKSUM_ANNOTATION = 'minimesh.dev/webhook-cert-sha256'

/** Gives the gateway Service's HTTP port (target 8080) a fixed node port; throws when there is no such Service. */
export function withGatewayNodePort(
  objects: readonly KubeObject[],
  nodePort: number,
  gateway = 'minimesh-ingressgateway',
): KubeObject[] {
  let found = false
  const out = objects.map((obj) => {
    if (obj.kind !== 'Service' || obj.metadata.name !== gateway) return obj
    const { spec } = obj as Service
    const ports = (spec.ports ?? []).map((p) => {
      if (p.targetPort !== 8080 && p.name !== 'http') return p
      found = true
      return { ...p, nodePort }
    })
    // NodePort and LoadBalancer Services both take a nodePort; a ClusterIP one becomes NodePort.
    const type = spec.type === 'LoadBalancer' ? 'LoadBalancer' : 'NodePort'
    return { ...obj, spec: { ...spec, type, ports } }
  })
  if (!found)
    throw new Error(`no Service ${gateway} with an http port (target 8080) in the install manifests`)
  return out
}

/** Puts the SHA-256 of the webhook serving certificate on the Deployment's pod template. */
export function withCertChecksum(
  objects: readonly KubeObject[],
  cert: string,
  deployment = 'meshd',
): KubeObject[] {
  const sum = createHash('sha256').update(cert).digest('hex')
  return objects.map((obj) => {
    if (obj.kind !== 'Deployment' || obj.metadata.name !== deployment) return obj
    const { spec } = obj as Deployment
    const meta = spec.template.metadata ?? {}
    return {
      ...obj,
      spec: {
        ...spec,
        template: {
          ...spec.template,
          metadata: { ...meta, annotations: { ...meta.annotations, [CERT_CHECKSUM_ANNOTATION]: sum } },
        },
      },
    }
  })
}

/**
 * The certificates in the webhook Secret when they are worth keeping: the serving certificate is
 * signed by the CA, names `host`, and stays valid for at least `minDays` more. Otherwise undefined
 * (install then generates new ones). The CA key is not stored in the cluster: caKey is ''.
 */
export function reusableCertificates(
  secret: KubeObject | undefined,
  host: string,
  options: { now?: Date; minDays?: number } = {},
): CertificateBundle | undefined {
  const data = (secret?.data ?? {}) as Record<string, string | undefined>
  const decode = (k: string) => (data[k] ? Buffer.from(data[k], 'base64').toString('utf8') : undefined)
  const cert = decode('tls.crt')
  const key = decode('tls.key')
  const ca = decode('ca.crt')
  if (!cert || !key || !ca) return undefined
  try {
    const serving = new X509Certificate(cert)
    const authority = new X509Certificate(ca)
    const now = options.now ?? new Date()
    const until = new Date(now.getTime() + (options.minDays ?? 30) * 86_400_000)
    if (new Date(serving.validTo) < until || new Date(serving.validFrom) > now) return undefined
    if (!serving.verify(authority.publicKey) || !serving.checkHost(host)) return undefined
  } catch {
    return undefined
  }
  return { caCert: ca, caKey: '', cert, key }
}
