// The pure parts of TLS origination: reading and checking the files of a cluster's tls, and the
// subject alt name check (the handshake itself is tested against real servers in http/tls.test.ts).
import { readFileSync, writeFileSync } from 'node:fs'
import type { PeerCertificate } from 'node:tls'
import type { Cluster } from '@minimesh/api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CertDir, certDir, opensslMissing } from '../testdata/certs.ts'
import { cluster } from '../testdata/harness.ts'
import { loadUpstreamTls, subjectAltNameCheck, tlsFailure } from './tls.ts'

const peer = (subjectaltname: string) => ({ subjectaltname }) as PeerCertificate

describe('subjectAltNameCheck', () => {
  it('accepts a certificate carrying one of the names: DNS (one-label wildcard), URI, IP', () => {
    const check = subjectAltNameCheck(['a.example.com', 'spiffe://cluster.local/ns/x/sa/y', '10.0.0.1'])
    expect(check('h', peer('DNS:a.example.com'))).toBeUndefined()
    expect(check('h', peer('DNS:*.example.com'))).toBeUndefined()
    expect(check('h', peer('DNS:other, URI:spiffe://cluster.local/ns/x/sa/y'))).toBeUndefined()
    expect(check('h', peer('IP Address:10.0.0.1'))).toBeUndefined()
  })

  it('refuses one that carries none of them, naming what it has', () => {
    const check = subjectAltNameCheck(['a.b.example.com', 'spiffe://cluster.local/ns/x/sa/y'])
    const err = check('h', peer('DNS:*.example.com, URI:spiffe://cluster.local/ns/x/sa/z'))
    expect(err?.message).toMatch(/DNS:\*\.example\.com, URI:spiffe:\/\/cluster\.local\/ns\/x\/sa\/z/)
    expect(tlsFailure(err)?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID')
    expect(check('h', peer(''))?.message).toContain('(none)')
    // A quoted value (Node quotes one with a comma) is compared unquoted.
    expect(subjectAltNameCheck(['URI:x'])('h', peer('URI:"a,b"'))).toBeInstanceOf(Error)
    expect(subjectAltNameCheck(['a,b'])('h', peer('URI:"a,b"'))).toBeUndefined()
  })
})

describe('tlsFailure', () => {
  it('knows handshake failures, also as the cause of a socket error', () => {
    expect(tlsFailure({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).toBeDefined()
    expect(
      tlsFailure({ code: 'UND_ERR_SOCKET', cause: { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' } })
        ?.code,
    ).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')
    expect(tlsFailure({ code: 'ECONNREFUSED' })).toBeUndefined()
    expect(tlsFailure(undefined)).toBeUndefined()
  })
})

const missing = opensslMissing()

describe.skipIf(missing !== undefined)(`loadUpstreamTls${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let certs: CertDir
  const service = {
    host: 'reviews.default.svc.cluster.local',
    name: 'reviews',
    namespace: 'default',
    port: 9080,
  }
  const withTls = (tls: Cluster['tls']) => cluster('c', { service, tls })

  beforeAll(() => {
    certs = certDir()
    certs.ca('ca')
    certs.leaf('client', 'ca', 'client', ['DNS:client'])
    writeFileSync(`${certs.dir}/junk.pem`, 'not a certificate\n')
  })
  afterAll(() => certs.remove())

  it('plaintext for no tls and DISABLE', () => {
    expect(loadUpstreamTls(cluster('c'))).toBeUndefined()
    expect(loadUpstreamTls(withTls({ mode: 'DISABLE' }))).toBeUndefined()
  })

  it('SIMPLE: the CA read, SNI the service host, verification on', () => {
    const t = loadUpstreamTls(withTls({ mode: 'SIMPLE', caCertificates: certs.pem('ca') }))!
    expect(t.servername).toBe(service.host)
    expect(t.options.ca).toEqual(readFileSync(certs.pem('ca')))
    expect(t.options.rejectUnauthorized).toBe(true)
    expect(t.options.checkServerIdentity).toBeUndefined()
    expect(t.options.cert).toBeUndefined()
  })

  it('MUTUAL with sni, subjectAltNames; insecureSkipVerify turns every check off', () => {
    const t = loadUpstreamTls(
      withTls({
        mode: 'MUTUAL',
        clientCertificate: certs.pem('client'),
        privateKey: certs.key('client'),
        sni: 'x.internal',
        subjectAltNames: ['x.internal'],
      }),
    )!
    expect([t.servername, t.options.cert, t.options.key]).toEqual([
      'x.internal',
      readFileSync(certs.pem('client')),
      readFileSync(certs.key('client')),
    ])
    expect(t.options.checkServerIdentity).toBeTypeOf('function')
    const loose = loadUpstreamTls(
      withTls({ mode: 'SIMPLE', insecureSkipVerify: true, subjectAltNames: ['x'] }),
    )!
    expect(loose.options.rejectUnauthorized).toBe(false)
    expect(loose.options.checkServerIdentity).toBeUndefined()
  })

  it('a file that is missing, or not what it should be, is an error naming cluster and field', () => {
    const load = (tls: Cluster['tls']) => () => loadUpstreamTls(withTls(tls))
    expect(load({ mode: 'SIMPLE', caCertificates: `${certs.dir}/none.pem` })).toThrow(
      /^Cluster c: tls\.caCertificates: cannot read .*none\.pem: ENOENT/,
    )
    expect(load({ mode: 'SIMPLE', caCertificates: `${certs.dir}/junk.pem` })).toThrow(
      /^Cluster c: tls\.caCertificates: .*junk\.pem holds no PEM certificates/,
    )
    expect(
      load({ mode: 'MUTUAL', clientCertificate: `${certs.dir}/junk.pem`, privateKey: certs.key('client') }),
    ).toThrow(/^Cluster c: tls\.clientCertificate: /)
    expect(
      load({ mode: 'MUTUAL', clientCertificate: certs.pem('client'), privateKey: `${certs.dir}/gone.key` }),
    ).toThrow(/^Cluster c: tls\.privateKey: cannot read /)
    expect(
      load({ mode: 'MUTUAL', clientCertificate: certs.pem('client'), privateKey: certs.key('ca') }),
    ).toThrow(/^Cluster c: tls\.privateKey: .* is not the PEM private key of the client certificate/)
  })
})
