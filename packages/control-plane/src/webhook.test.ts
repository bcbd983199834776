import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCertificates } from '@minimesh/injector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Meshd, startMeshd } from './meshd.ts'

let dir: string
let meshd: Meshd
let ca: string

function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const [host, port] = meshd.addresses.webhook!.split(':')
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: Number(port), path, method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = ''
        res.on('data', (d) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshd-webhook-'))
  const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })
  ca = certs.caCert
  writeFileSync(join(dir, 'tls.crt'), certs.cert)
  writeFileSync(join(dir, 'tls.key'), certs.key)
  meshd = await startMeshd({
    configDir: join(dir),
    grpcAddress: '127.0.0.1:0',
    monitoringAddress: '127.0.0.1:0',
    webhookAddress: '127.0.0.1:0',
    webhookCert: join(dir, 'tls.crt'),
    webhookKey: join(dir, 'tls.key'),
    logLevel: 'silent',
    processMetrics: false,
  })
})
afterAll(async () => {
  await meshd?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('meshd serves the webhooks from @minimesh/injector on HTTPS', () => {
  it('validates mesh resources', async () => {
    const vs = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'reviews', namespace: 'default' },
      spec: { hosts: ['reviews'], tcp: [] },
    }
    const res = await post('/validate', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u1',
        kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' },
        resource: { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' },
        operation: 'CREATE',
        namespace: 'default',
        name: 'reviews',
        object: vs,
      },
    })
    expect(res.status).toBe(200)
    const response = res.body.response as { uid: string; allowed: boolean; status?: { message?: string } }
    expect(response.uid).toBe('u1')
    expect(response.allowed).toBe(false)
    expect(response.status?.message).toMatch(/tcp/)
  })
})
