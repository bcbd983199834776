import { createPrivateKey, X509Certificate } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateCertificates, serviceDnsNames } from './certs.ts'

describe('generateCertificates', () => {
  it('a CA and a serving certificate it signed, for the given names', async () => {
    const b = await generateCertificates({
      dnsNames: serviceDnsNames('meshd', 'minimesh-system'),
      ipAddresses: ['198.18.0.1'],
    })
    const ca = new X509Certificate(b.caCert)
    const cert = new X509Certificate(b.cert)
    expect(ca.ca).toBe(true)
    expect(cert.ca).toBe(false)
    expect(cert.checkIssued(ca)).toBe(true)
    expect(cert.verify(ca.publicKey)).toBe(true)
    expect(cert.checkHost('meshd.minimesh-system.svc')).toBe('meshd.minimesh-system.svc')
    expect(cert.checkHost('meshd.minimesh-system.svc.cluster.local')).toBeDefined()
    expect(cert.checkHost('evil.example')).toBeUndefined()
    expect(cert.checkIP('198.18.0.1')).toBe('198.18.0.1')
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1')
    expect(cert.checkPrivateKey(createPrivateKey(b.key))).toBe(true)
    expect(ca.checkPrivateKey(createPrivateKey(b.caKey))).toBe(true)
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000)
  })
  it('every call makes a new CA', async () => {
    const [a, b] = await Promise.all([generateCertificates(), generateCertificates()])
    expect(a.caCert).not.toBe(b.caCert)
    expect(new X509Certificate(a.cert).checkIssued(new X509Certificate(b.caCert))).toBe(false)
  })
})
