// Calls one admission webhook over HTTPS, trusting only its caBundle, as kube-apiserver does.
import { request } from 'node:https'
import { checkServerIdentity } from 'node:tls'
import { LocalClusterError } from '../errors.ts'
import type { WebhookClientConfig } from './webhooks.ts'

export interface AdmissionResponse {
  uid: string
  allowed: boolean
  patch?: string
  patchType?: string
  status?: { code?: number; message?: string; reason?: string }
  warnings?: string[]
}

/** Where a webhook's Service lives now (an endpoint address and target port), or undefined when none is ready. */
export type ServiceResolver = (
  namespace: string,
  name: string,
  port: number,
) => { host: string; port: number } | undefined

export async function callWebhook(
  cfg: WebhookClientConfig,
  review: Record<string, unknown>,
  opts: { resolve: ServiceResolver; timeoutMs: number },
): Promise<AdmissionResponse> {
  let host: string
  let port: number
  let path: string
  let servername: string
  if (cfg.service) {
    const s = cfg.service
    const target = opts.resolve(s.namespace, s.name, s.port ?? 443)
    if (!target) {
      throw new LocalClusterError(
        'MESH_ERR_LOCAL_WEBHOOK',
        `no endpoints available for service "${s.name}" in namespace "${s.namespace}"`,
      )
    }
    host = target.host
    port = target.port
    path = s.path ?? '/'
    servername = `${s.name}.${s.namespace}.svc`
  } else if (cfg.url) {
    const u = new URL(cfg.url)
    host = u.hostname
    port = Number(u.port || 443)
    path = `${u.pathname}${u.search}`
    servername = u.hostname
  } else {
    throw new LocalClusterError('MESH_ERR_LOCAL_WEBHOOK', 'webhook clientConfig has neither service nor url')
  }
  const ca = cfg.caBundle ? Buffer.from(cfg.caBundle, 'base64').toString('utf8') : undefined
  const body = JSON.stringify(review)
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path,
        method: 'POST',
        servername: /^\d+\.\d+\.\d+\.\d+$/.test(servername) ? undefined : servername,
        ca,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
        },
        timeout: opts.timeoutMs,
        // Verify against the name in the certificate, as the API server does for <svc>.<ns>.svc.
        checkServerIdentity: (_h, cert) => checkServerIdentity(servername, cert),
      },
      (res) => {
        let data = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          data += d
        })
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300)
            reject(
              new LocalClusterError(
                'MESH_ERR_LOCAL_WEBHOOK',
                `HTTP ${res.statusCode}: ${data.slice(0, 200)}`,
              ),
            )
          else resolve(data)
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)))
    req.on('error', (err) =>
      reject(
        new LocalClusterError('MESH_ERR_LOCAL_WEBHOOK', `${host}:${port}${path}: ${err.message}`, {
          cause: err,
        }),
      ),
    )
    req.end(body)
  })
  let parsed: { response?: AdmissionResponse }
  try {
    parsed = JSON.parse(text) as { response?: AdmissionResponse }
  } catch (err) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_WEBHOOK',
      'the webhook answered with something that is not JSON',
      {
        cause: err,
      },
    )
  }
  const r = parsed.response
  if (!r || typeof r.allowed !== 'boolean') {
    throw new LocalClusterError('MESH_ERR_LOCAL_WEBHOOK', 'the webhook answer has no response.allowed')
  }
  return r
}
