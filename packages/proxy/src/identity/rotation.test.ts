// The pod side of identity against a test certificate service (real gRPC over real TLS, a mesh
// root made for the test): key and CSR made here, the chain checked and installed, renewal at half
// life with the old certificate serving until then, a CA that is down at renewal time, a root that
// does not match meshd's certificate, the token file read for every request.
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createTestRoot, TestCertificateServer } from '../testdata/test-ca.ts'
import { grpcCaClient } from './ca-client.ts'
import { CertificateStore, type WorkloadCertificate } from './certificates.ts'
import { checkChain, readRoots, splitPem, uriSans } from './chain.ts'
import { createKeyAndCsr } from './csr.ts'
import { CertificateRotator } from './rotation.ts'

const SPIFFE = 'spiffe://cluster.local/ns/default/sa/reviews'
const log = pino({ level: 'silent' })

const serialOf = (c: WorkloadCertificate | undefined) =>
  c && new X509Certificate(splitPem(c.certChainPem)[0]!).serialNumber

describe('workload certificates from the CA', () => {
  let ca: TestCertificateServer
  let dir: string
  let tokenFile: string
  const rotators: CertificateRotator[] = []

  const rotator = (
    extra: { ttlSeconds?: number; rootsPem?: string; address?: string; spiffeId?: string } = {},
  ) => {
    const store = new CertificateStore()
    const rootsPem = extra.rootsPem ?? ca.rootPem
    const r = new CertificateRotator({
      store,
      ca: grpcCaClient({ address: extra.address ?? ca.address, rootsPem, tokenFile, timeoutMs: 2000 }),
      spiffeId: extra.spiffeId ?? SPIFFE,
      rootsPem,
      log,
      ttlSeconds: extra.ttlSeconds ?? 0,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    })
    rotators.push(r)
    return { r, store }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'minimesh-token-'))
    tokenFile = join(dir, 'minimesh-token')
    writeFileSync(tokenFile, 'token-reviews\n')
    ca = new TestCertificateServer({
      tokens: { 'token-reviews': 'default/reviews', 'token-reviews-2': 'default/reviews' },
    })
    await ca.start()
  })
  afterEach(() => {
    for (const r of rotators.splice(0)) r.close()
    ca.failWith = undefined
  })
  afterAll(() => {
    ca.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('gets a chain for its SPIFFE id over TLS and installs it with the key made here', async () => {
    const { r, store } = rotator()
    r.start()
    await r.whenReady()
    const cert = store.current!
    expect(cert.spiffeId).toBe(SPIFFE)
    expect(store.principal).toBe('cluster.local/ns/default/sa/reviews')
    const leaf = new X509Certificate(splitPem(cert.certChainPem)[0]!)
    expect(uriSans(leaf)).toEqual([SPIFFE])
    expect(
      leaf.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(cert.keyPem))),
    ).toBe(true)
    expect(leaf.verify(new X509Certificate(ca.rootPem).publicKey)).toBe(true)
    // The self-signed root is a trust anchor, not shown in the chain.
    expect(splitPem(cert.certChainPem)).toHaveLength(1)
    expect(cert.rootsPem).toBe(ca.rootPem)
    expect(r.expiry?.getTime()).toBe(cert.notAfter.getTime())
    // Default lifetime (0 asked: the CA's 24 h).
    expect(ca.issued.at(-1)?.validitySeconds).toBe(86_400)
    expect(store.secureContext).toBeDefined()
    expect(r.stats).toMatchObject({ requests: 1, failures: 0, rotations: 0 })
  })

  it('renews at half its lifetime; the old certificate serves until the new one is in', async () => {
    const { r, store } = rotator({ ttlSeconds: 2 })
    const changes: number[] = []
    store.on('change', () => changes.push(Date.now()))
    r.start()
    await r.whenReady()
    const cert = store.current!
    const first = serialOf(cert)
    const installedAt = changes[0]!
    expect(ca.issued.at(-1)?.validitySeconds).toBe(2)
    // X.509 times are whole seconds: the 2 s certificate has 1-2 s left when it arrives, and is
    // renewed when half of that has passed.
    const left = cert.notAfter.getTime() - installedAt
    expect(left).toBeGreaterThan(500)
    expect(left).toBeLessThanOrEqual(2000)
    const due = installedAt + left / 2
    await new Promise((res) => setTimeout(res, due - 150 - Date.now()))
    expect(serialOf(store.current)).toBe(first)
    expect(changes).toHaveLength(1)
    while (changes.length < 2 && Date.now() - installedAt < 4000)
      await new Promise((res) => setTimeout(res, 10))
    expect(changes.length).toBeGreaterThanOrEqual(2)
    // Not before half-life (a timer never fires early; the new key and CSR take a few ms more),
    // and not long after it (the allowance is for a loaded machine).
    expect(changes[1]!).toBeGreaterThanOrEqual(due - 5)
    expect(changes[1]! - due).toBeLessThan(800)
    expect(serialOf(store.current)).not.toBe(first)
    expect(store.current!.notAfter.getTime()).toBeGreaterThanOrEqual(cert.notAfter.getTime())
    expect(r.stats.rotations).toBeGreaterThanOrEqual(1)
  })

  it('keeps the old certificate and retries with backoff while the CA is down at renewal', async () => {
    const { r, store } = rotator({ ttlSeconds: 2 })
    r.start()
    await r.whenReady()
    const first = serialOf(store.current)
    ca.stop()
    try {
      const t0 = Date.now()
      while (r.stats.failures < 3 && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 20))
      expect(r.stats.failures).toBeGreaterThanOrEqual(3)
      expect(r.stats.lastError).toMatch(/MESH_ERR|certificate request to localhost:\d+ failed: UNAVAILABLE/)
      expect(serialOf(store.current)).toBe(first)
      expect(r.metrics()).toMatch(/minimesh_agent_cert_request_failures_total [3-9]/)
    } finally {
      await ca.start()
    }
    const t1 = Date.now()
    while (serialOf(store.current) === first && Date.now() - t1 < 5000)
      await new Promise((res) => setTimeout(res, 20))
    expect(serialOf(store.current)).not.toBe(first)
    expect(r.stats.consecutiveFailures).toBe(0)
  })

  it('keeps the old certificate while the CA refuses (UNAVAILABLE), and counts it', async () => {
    const { r, store } = rotator({ ttlSeconds: 2 })
    r.start()
    await r.whenReady()
    const first = serialOf(store.current)
    ca.failWith = 'signing key unavailable'
    const t0 = Date.now()
    while (r.stats.failures < 2 && Date.now() - t0 < 4000) await new Promise((res) => setTimeout(res, 20))
    expect(r.stats.lastError).toContain('signing key unavailable')
    expect(serialOf(store.current)).toBe(first)
  })

  it('refuses the handshake when the mesh root is not the one that signed meshd’s certificate', async () => {
    const other = await createTestRoot('someone else')
    const { r, store } = rotator({ rootsPem: other.certPem })
    r.start()
    const t0 = Date.now()
    while (r.stats.failures < 1 && Date.now() - t0 < 4000) await new Promise((res) => setTimeout(res, 20))
    expect(r.stats.lastError).toMatch(
      /^certificate request to localhost:\d+ failed: UNAVAILABLE: .*unable to verify the first certificate — TLS handshake refused: meshd’s serving certificate is not trusted by MESH_CA_ROOT_CERT or does not name this address$/,
    )
    expect(store.current).toBeUndefined()
  })

  it('refuses a server whose certificate does not name the address', async () => {
    // Signed by the mesh root, but for meshd's Service name only: 127.0.0.1 is not in it.
    const named = new TestCertificateServer({
      tokens: { 'token-reviews': 'default/reviews' },
      servingNames: { dns: ['meshd.minimesh-system.svc'], ips: [] },
    })
    named.root = ca.root
    await named.start()
    try {
      const { r } = rotator({ address: `127.0.0.1:${named.port}` })
      await r.rotate()
      expect(r.stats.lastError).toMatch(
        /IP: 127\.0\.0\.1 is not in the cert's list: \. — TLS handshake refused: meshd’s serving certificate is not trusted by MESH_CA_ROOT_CERT or does not name this address$/,
      )
      expect(named.issued).toHaveLength(0)
    } finally {
      named.stop()
    }
  })

  it('reads the token file for every request', async () => {
    const { r } = rotator()
    writeFileSync(tokenFile, 'token-reviews\n')
    await r.rotate()
    writeFileSync(tokenFile, 'token-reviews-2')
    await r.rotate()
    expect(ca.issued.slice(-2).map((i) => i.token)).toEqual(['token-reviews', 'token-reviews-2'])
    writeFileSync(tokenFile, 'stolen')
    await r.rotate()
    expect(r.stats.lastError).toMatch(/UNAUTHENTICATED.*did not accept/)
    rmSync(tokenFile)
    await r.rotate()
    expect(r.stats.lastError).toMatch(/cannot read the ServiceAccount token .*minimesh-token/)
    writeFileSync(tokenFile, 'token-reviews\n')
  })

  it('is refused an identity its token does not stand for', async () => {
    const { r, store } = rotator({ spiffeId: 'spiffe://cluster.local/ns/default/sa/admin' })
    await r.rotate()
    expect(r.stats.lastError).toMatch(/PERMISSION_DENIED/)
    expect(store.current).toBeUndefined()
  })
})

describe('checkChain', () => {
  it('refuses a chain without this key, for another identity, or not leading to a root', async () => {
    const ca = new TestCertificateServer({ tokens: { t: 'default/reviews' } })
    await ca.start()
    const dir = mkdtempSync(join(tmpdir(), 'minimesh-token-'))
    writeFileSync(join(dir, 't'), 't')
    const client = grpcCaClient({ address: ca.address, rootsPem: ca.rootPem, tokenFile: join(dir, 't') })
    try {
      const a = await createKeyAndCsr(SPIFFE)
      const chain = await client.createCertificate(a.csrPem, 60)
      const want = {
        spiffeId: SPIFFE,
        keyPem: a.keyPem,
        publicKeySpki: a.publicKeySpki,
        rootsPem: ca.rootPem,
      }
      expect(checkChain(chain, want).spiffeId).toBe(SPIFFE)
      const b = await createKeyAndCsr(SPIFFE)
      expect(() => checkChain(chain, { ...want, publicKeySpki: b.publicKeySpki })).toThrow(
        /does not carry the key/,
      )
      expect(() => checkChain(chain, { ...want, spiffeId: 'spiffe://cluster.local/ns/x/sa/y' })).toThrow(
        /is for spiffe:\/\/cluster.local\/ns\/default\/sa\/reviews, not/,
      )
      const other = await createTestRoot('other')
      expect(() => checkChain([chain[0]!], { ...want, rootsPem: other.certPem })).toThrow(
        /does not lead to a mesh root/,
      )
      expect(() => checkChain([chain[0]!, other.certPem], want)).toThrow(/not signed by cert_chain\[1\]/)
      expect(() => checkChain(chain, { ...want, now: new Date(Date.now() + 120_000) })).toThrow(/expired/)
      expect(() => checkChain([], want)).toThrow(/empty/)
    } finally {
      client.close()
      ca.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads roots from PEM or a file, and says what is wrong', async () => {
    const root = await createTestRoot()
    const dir = mkdtempSync(join(tmpdir(), 'minimesh-roots-'))
    try {
      writeFileSync(join(dir, 'root.pem'), root.certPem)
      expect(readRoots(join(dir, 'root.pem'))).toBe(readRoots(root.certPem))
      expect(() => readRoots(join(dir, 'nope.pem'))).toThrow(
        /MESH_CA_ROOT_CERT: neither PEM nor a readable file/,
      )
      writeFileSync(join(dir, 'empty.pem'), 'hello')
      expect(() => readRoots(join(dir, 'empty.pem'), '--ca-root-cert')).toThrow(
        /--ca-root-cert: no PEM certificate/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
