// The webhook over real HTTPS with real AdmissionReview JSON: a throwaway CA and serving
// certificate, a server on port 0, undici as the API server.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import type { Labels, PodTemplateSpec } from '@minimesh/api/kube'
import { applyPatch, type Operation } from 'fast-json-patch'
import { pino } from 'pino'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CertificateBundle, generateCertificates } from '../certs.ts'
import { inject } from '../inject/inject.ts'
import { createWebhookServer, type WebhookServer } from './server.ts'

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are navigated freely in tests
type Json = any

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../testdata/admission/${name}`, import.meta.url), 'utf8')) as {
    request: Record<string, unknown> & { object: Record<string, unknown> }
  }

let dir: string
let certs: CertificateBundle
let server: WebhookServer
let agent: Agent
let base: string
const lookups: string[] = []
const namespaces: Record<string, Labels> = {
  default: { 'minimesh-injection': 'enabled' },
  plain: {},
}

function writePair(pair: { cert: string; key: string }) {
  // Atomic replace, as a Secret volume update or a careful tool does.
  writeFileSync(join(dir, 'tls.crt.tmp'), pair.cert)
  writeFileSync(join(dir, 'tls.key.tmp'), pair.key)
  renameSync(join(dir, 'tls.key.tmp'), join(dir, 'tls.key'))
  renameSync(join(dir, 'tls.crt.tmp'), join(dir, 'tls.crt'))
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  })
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, Json> }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mm-webhook-'))
  certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })
  writePair(certs)
  server = createWebhookServer({
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    config: {},
    logger: pino({ level: 'silent' }),
    namespaceLookup: async (name) => {
      lookups.push(name)
      return namespaces[name]
    },
  })
  const addr = await server.listen(0, '127.0.0.1')
  expect(server.address?.port).toBe(addr.port)
  base = `https://127.0.0.1:${addr.port}`
  agent = new Agent({ connect: { ca: certs.caCert } })
})

afterAll(async () => {
  await agent?.close()
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('/inject', () => {
  it('patches a pod CREATE so the result is exactly inject(pod)', async () => {
    const review = fixture('pod-create.json')
    const { status, body } = await post('/inject', review)
    expect(status).toBe(200)
    expect(body.apiVersion).toBe('admission.k8s.io/v1')
    expect(body.kind).toBe('AdmissionReview')
    expect(body.response).toMatchObject({ uid: review.request.uid, allowed: true, patchType: 'JSONPatch' })
    const ops = JSON.parse(Buffer.from(body.response.patch, 'base64').toString()) as Operation[]
    const pod = review.request.object
    const patched = applyPatch(structuredClone(pod), ops, true, false).newDocument
    expect(patched).toStrictEqual(inject(pod as PodTemplateSpec))
    expect(lookups).toContain('default')
  })

  it('leaves alone: unlabelled namespace, opted-out pod, already injected, UPDATE, not a pod', async () => {
    const untouched = async (mutate: (r: ReturnType<typeof fixture>) => void) => {
      const review = fixture('pod-create.json')
      mutate(review)
      const { status, body } = await post('/inject', review)
      expect(status).toBe(200)
      expect(body.response).toEqual({ uid: review.request.uid, allowed: true })
    }
    await untouched((r) => {
      r.request.namespace = 'plain'
    })
    await untouched((r) => {
      ;(r.request.object.metadata as Json).annotations = { 'sidecar.minimesh.dev/inject': 'false' }
    })
    await untouched((r) => {
      r.request.object = inject(r.request.object as PodTemplateSpec) as Record<string, unknown>
    })
    await untouched((r) => {
      r.request.operation = 'UPDATE'
    })
    await untouched((r) => {
      r.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' }
    })
  })

  it('an unknown namespace is trusted to the webhook configuration', async () => {
    const review = fixture('pod-create.json')
    review.request.namespace = 'not-in-registry'
    const { body } = await post('/inject', review)
    expect(body.response.patchType).toBe('JSONPatch')
  })

  it("denies a pod it cannot inject with the status declared beside the error's code (400), and the reason", async () => {
    const review = fixture('pod-create.json')
    ;(review.request.object.metadata as Json).annotations = {
      'traffic.sidecar.minimesh.dev/excludeInboundPorts': '99999',
    }
    const { status, body } = await post('/inject', review)
    // A denial is a successful webhook call: HTTP 200, the verdict and its status in the review.
    expect(status).toBe(200)
    expect(body.response.uid).toBe(review.request.uid)
    expect(body.response.allowed).toBe(false)
    expect(body.response.status).toMatchObject({ code: 400, reason: 'BadRequest' })
    expect(body.response.status.message).toMatch(
      /excludeInboundPorts: "99999" is not a TCP port.*MESH_ERR_INJECT_BAD_ANNOTATION/,
    )
    const odd = fixture('pod-create.json')
    ;(odd.request.object.spec as Json).containers[0].ports = 'all of them'
    const r = await post('/inject', odd)
    expect(r.status).toBe(200)
    expect(r.body.response.allowed).toBe(false)
    expect(r.body.response.status).toMatchObject({ code: 400, reason: 'BadRequest' })
    expect(r.body.response.status.message).toMatch(
      /spec.containers\[0\].ports is not a list.*MESH_ERR_INJECT_INVALID_POD/,
    )
  })

  it('denies with a 500 InternalError when the injector itself fails, and keeps serving', async () => {
    // A webhook whose configuration breaks inject() (excludeOutboundCidrs must be a list; meshd
    // never passes anything else): the injector's fault, not the pod's.
    const broken = createWebhookServer({
      certFile: join(dir, 'tls.crt'),
      keyFile: join(dir, 'tls.key'),
      config: { excludeOutboundCidrs: 42 as never },
      logger: pino({ level: 'silent' }),
    })
    const addr = await broken.listen(0, '127.0.0.1')
    try {
      const review = fixture('pod-create.json')
      const res = await request(`https://127.0.0.1:${addr.port}/inject`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(review),
      })
      const body = (await res.body.json()) as Json
      expect(res.statusCode).toBe(200)
      expect(body.response.uid).toBe(review.request.uid)
      expect(body.response.allowed).toBe(false)
      expect(body.response.status).toMatchObject({ code: 500, reason: 'InternalError' })
      expect(body.response.status.message).toMatch(/^minimesh sidecar injection failed: /)
      expect(broken.stats()).toMatchObject({ denied: 1, badRequests: 0 })
    } finally {
      await broken.close()
    }
  })
})

describe('/validate', () => {
  it('allows a valid VirtualService', async () => {
    const review = fixture('virtualservice-create.json')
    const { body } = await post('/validate', review)
    expect(body.response).toEqual({ uid: review.request.uid, allowed: true })
  })
  it('denies a bad one with the field paths', async () => {
    const review = fixture('virtualservice-create.json')
    const spec = review.request.object.spec as Json
    spec.http[0].route[1].weight = 'fifty'
    spec.http[0].mirrorPercent = 5
    const { body } = await post('/validate', review)
    expect(body.response.allowed).toBe(false)
    expect(body.response.status.code).toBe(400)
    expect(body.response.status.message).toContain(
      'VirtualService default/reviews spec.http[0].route[1].weight',
    )
    expect(body.response.status.message).toContain('spec.http[0].mirrorPercent')
  })
  it('allows DELETE and non-mesh kinds without looking', async () => {
    const del = fixture('virtualservice-create.json')
    del.request.operation = 'DELETE'
    ;(del.request.object.spec as Json).http = 'garbage'
    expect((await post('/validate', del)).body.response.allowed).toBe(true)
    const svc = fixture('virtualservice-create.json')
    svc.request.kind = { group: '', version: 'v1', kind: 'Service' }
    svc.request.object = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { bogus: true } }
    expect((await post('/validate', svc)).body.response.allowed).toBe(true)
  })
})

describe('bad requests get a 400 (or 413) with a reason, and the server lives on', () => {
  const cases: [string, () => Promise<{ status: number; body: Record<string, Json> }>, number, RegExp][] = [
    ['not JSON', () => post('/inject', '{"apiVersion": '), 400, /JSON/i],
    ['empty body', () => post('/inject', ''), 400, /empty/i],
    [
      'wrong content type',
      () => post('/inject', 'hello', { 'content-type': 'text/plain' }),
      400,
      /content-type/i,
    ],
    [
      'admission.k8s.io/v1beta1',
      () => post('/inject', { ...fixture('pod-create.json'), apiVersion: 'admission.k8s.io/v1beta1' }),
      400,
      /v1beta1.*not supported/,
    ],
    [
      'not an AdmissionReview',
      () => post('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'Pod' }),
      400,
      /kind/,
    ],
    [
      'no uid',
      () => {
        const r = fixture('pod-create.json')
        delete r.request.uid
        return post('/inject', r)
      },
      400,
      /uid/,
    ],
    [
      'CREATE without an object',
      () => {
        const r = fixture('pod-create.json')
        r.request.object = 'nope' as never
        return post('/inject', r)
      },
      400,
      /request.object/,
    ],
    ['a JSON array', () => post('/inject', '[]'), 400, /not a JSON object/],
    [
      'larger than 1 MiB',
      () => {
        const r = fixture('pod-create.json')
        ;(r.request.object.metadata as Json).annotations = { big: 'x'.repeat(1.5 * 1024 * 1024) }
        return post('/inject', r)
      },
      413,
      /too large/i,
    ],
  ]
  for (const [name, send, code, reason] of cases) {
    it(name, async () => {
      const { status, body } = await send()
      expect(status).toBe(code)
      expect(body.reason).toMatch(reason)
    })
  }
  it('plain HTTP and garbage bytes on the TLS port are dropped', async () => {
    const { connect: tcp } = await import('node:net')
    for (const bytes of ['GET /inject HTTP/1.1\r\nHost: x\r\n\r\n', '\x16\x03\x01\x00\xffgarbage']) {
      await new Promise<void>((resolve) => {
        const s = tcp(server.address!.port, '127.0.0.1', () => s.end(bytes, 'latin1'))
        s.on('error', () => resolve())
        s.on('close', () => resolve())
        s.resume()
      })
    }
  })
  it('an unknown path is a 404; the webhook still serves afterwards', async () => {
    expect((await post('/mutate', {})).status).toBe(404)
    const { body } = await post('/inject', fixture('pod-create.json'))
    expect(body.response.allowed).toBe(true)
    const stats = server.stats()
    expect(stats.badRequests).toBeGreaterThanOrEqual(cases.length)
    expect(stats.injected).toBeGreaterThanOrEqual(2)
  })
})

function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256)
      s.end()
    })
    s.on('error', reject)
  })
}

describe('serving certificate', () => {
  it('is reloaded when its files change', async () => {
    const port = server.address!.port
    const { X509Certificate } = await import('node:crypto')
    expect(await servedCertificate(port)).toBe(new X509Certificate(certs.cert).fingerprint256)
    const next = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })
    writePair(next)
    const want = new X509Certificate(next.cert).fingerprint256
    const deadline = Date.now() + 5000
    while ((await servedCertificate(port)) !== want) {
      if (Date.now() > deadline) throw new Error('the new certificate was not served within 5 s')
      await new Promise((r) => setTimeout(r, 25))
    }
    // A client that trusts only the new CA gets through; one that trusts only the old does not.
    const fresh = new Agent({ connect: { ca: next.caCert } })
    const res = await request(`${base}/healthz/ready`, { dispatcher: fresh })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    await fresh.close()
    const stale = new Agent({ connect: { ca: certs.caCert } })
    await expect(request(`${base}/healthz/ready`, { dispatcher: stale })).rejects.toThrow()
    await stale.close()
    agent = new Agent({ connect: { ca: next.caCert } })
  })
  it('a mismatched pair is ignored and the current one kept', async () => {
    const other = await generateCertificates()
    const current = readFileSync(join(dir, 'tls.crt'), 'utf8')
    writeFileSync(join(dir, 'tls.crt'), other.cert) // key not changed: the pair does not match
    expect(server.reloadCertificate()).toBe(false)
    writeFileSync(join(dir, 'tls.crt'), current)
    const res = await request(`${base}/healthz/ready`, { dispatcher: agent })
    expect(res.statusCode).toBe(200)
    await res.body.text()
  })
})
