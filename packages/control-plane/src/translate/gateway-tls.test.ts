import { TypeUrl, validateProxyResource } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { SnapshotBuilder } from '../snapshot.ts'
import { BOOKINFO_DIR, fixtureStore, PLATFORM, PROXIES } from '../testdata/fixtures.ts'
import { pushContextOf } from './context.ts'
import { generate, translate } from './index.ts'

const FILES = [...PLATFORM, 'gateway-tls.yaml']
const router = PROXIES['ingress-router']!
const secret = (name: string, ns: string, stringData: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  stringData,
})

describe('Gateway TLS translation', () => {
  it('sends certificates to the gateway only, never to a sidecar', () => {
    const ctx = pushContextOf(new SnapshotBuilder().build(fixtureStore(FILES)))
    expect(generate(ctx, PROXIES['productpage-sidecar']!)[TypeUrl.Secret]).toEqual([])
    const items = generate(ctx, router)[TypeUrl.Secret].flatMap((g) => g.items)
    expect(items.map((s) => (s as { name: string }).name)).toEqual([
      'kubernetes://minimesh-system/bookinfo-credential',
      'kubernetes://minimesh-system/mtls-credential',
    ])
    for (const s of items) expect(validateProxyResource(TypeUrl.Secret, s)).toEqual([])
  })

  it('MUTUAL takes the CA from the <credentialName>-cacert Secret', () => {
    const config = translate(new SnapshotBuilder().build(fixtureStore(FILES)), router)
    const mtls = config.secrets?.find((s) => s.name.endsWith('/mtls-credential'))
    expect(mtls?.trustedCa).toContain('BEGIN CERTIFICATE')
    expect(config.secrets?.find((s) => s.name.endsWith('/bookinfo-credential'))?.trustedCa).toBeUndefined()
  })

  it('leaves out a server whose Secret is missing, reports it, and serves the others', () => {
    const ctx = pushContextOf(new SnapshotBuilder().build(fixtureStore(FILES)))
    const generated = generate(ctx, router)
    const listener = generated[TypeUrl.Listener]
      .flatMap((g) => g.items as { name: string; filterChains: { name: string }[] }[])
      .find((l) => l.name === '0.0.0.0_443')
    expect(listener?.filterChains.map((c) => c.name)).toEqual([
      'https.443.https.secure-gateway.default',
      'https.443.https-mtls.secure-gateway.default',
    ])
    // A Secret of that name in the Gateway's own namespace is not the gateway pods': still missing.
    expect([...ctx.warnings.values()]).toEqual([
      'Gateway default/secure-gateway spec.servers[3] (port 443): left out until its certificate is usable: Secret minimesh-system/missing-credential does not exist',
    ])
  })

  it('a rotated Secret becomes a new Secret resource (same name, new certificate)', () => {
    const store = fixtureStore(FILES)
    const builder = new SnapshotBuilder()
    const before = translate(builder.build(store), router).secrets!
    // The mtls key pair under the bookinfo name: another valid certificate for it.
    const mtls = before.find((s) => s.name.endsWith('/mtls-credential'))!
    store.upsert(
      secret('bookinfo-credential', 'minimesh-system', {
        'tls.crt': mtls.certificateChain,
        'tls.key': mtls.privateKey,
      }),
      'test',
    )
    const after = translate(builder.build(store), router).secrets!
    const name = 'kubernetes://minimesh-system/bookinfo-credential'
    expect(after.find((s) => s.name === name)?.certificateChain).toBe(mtls.certificateChain)
    expect(before.find((s) => s.name === name)?.certificateChain).not.toBe(mtls.certificateChain)
  })

  it.each<[string, 'mtls' | 'none', string]>([
    ['a key that is not the certificate’s', 'mtls', 'does not belong to the certificate'],
    ['no certificate at all', 'none', 'holds no PEM certificate'],
  ])('leaves out a server whose Secret is unusable: %s', (_name, crt, message) => {
    const store = fixtureStore(FILES)
    const base = translate(new SnapshotBuilder().build(store), router).secrets!
    const mtls = base.find((s) => s.name.endsWith('/mtls-credential'))!
    const bookinfo = base.find((s) => s.name.endsWith('/bookinfo-credential'))!
    store.upsert(
      secret('bookinfo-credential', 'minimesh-system', {
        'tls.crt': crt === 'mtls' ? mtls.certificateChain : 'nothing',
        'tls.key': bookinfo.privateKey,
      }),
      'test',
    )
    const ctx = pushContextOf(new SnapshotBuilder().build(store))
    const config = generate(ctx, router)
    const names = config[TypeUrl.Secret].flatMap((g) => g.items as { name: string }[]).map((s) => s.name)
    expect(names).toEqual(['kubernetes://minimesh-system/mtls-credential'])
    expect([...ctx.warnings.values()].some((w) => w.includes('servers[1]') && w.includes(message))).toBe(true)
  })

  it('MUTUAL without any CA is left out', () => {
    const store = fixtureStore(FILES)
    store.remove('core/Secret/minimesh-system/mtls-credential-cacert', `${BOOKINFO_DIR}gateway-tls.yaml`)
    const ctx = pushContextOf(new SnapshotBuilder().build(store))
    const config = translate(ctx.snapshot, router)
    expect(config.secrets?.map((s) => s.name)).toEqual(['kubernetes://minimesh-system/bookinfo-credential'])
    const ctx2 = pushContextOf(ctx.snapshot)
    generate(ctx2, router)
    expect([...ctx2.warnings.values()].join('\n')).toContain('MUTUAL needs a CA')
  })

  it('httpsRedirect answers every request of the plaintext server with a 301 to https', () => {
    const config = translate(new SnapshotBuilder().build(fixtureStore(FILES)), router)
    expect(config.routes.find((r) => r.name === 'http.80')?.virtualHosts).toEqual([
      {
        name: 'bookinfo.example.com:80',
        domains: ['bookinfo.example.com', 'bookinfo.example.com:80'],
        routes: [
          {
            name: 'https-redirect',
            match: { path: { prefix: '/' } },
            redirect: { scheme: 'https', code: 301 },
          },
        ],
      },
    ])
  })

  it('the gateway status has no finding about the Secrets that exist', () => {
    const snapshot = new SnapshotBuilder().build(fixtureStore(FILES))
    const gw = snapshot.status.find((s) => s.kind === 'Gateway' && s.name === 'secure-gateway')
    expect(gw?.state).toBe('accepted')
    // missing-credential exists only in default: analysis sees a Secret of that name, so no warning.
    expect(gw?.findings).toEqual([])
    expect(snapshot.status.find((s) => s.kind === 'Secret')?.state).toBe('accepted')
  })
})
