import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningProxy } from '../proxy.ts'
import { type CertDir, certDir, opensslMissing } from '../testdata/certs.ts'
import { call, cluster, endpoints, gatewayConfig, gatewayPort, startTestProxy } from '../testdata/harness.ts'

const HOST = 'reviews.default.svc.cluster.local'
const missing = opensslMissing()

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe.skipIf(missing !== undefined)(
  `TLS certificate rotation${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let certs: CertDir
    let server: https.Server
    let proxy: RunningProxy
    let trust: string
    const logs: { level: number; msg: string; cluster?: string; reason?: string }[] = []
    const status = async () => (await call(gatewayPort(proxy), '/')).status
    const runtime = () => proxy.store.current.clusters.get('rot')

    beforeAll(async () => {
      certs = certDir()
      certs.ca('old-ca')
      certs.ca('new-ca')
      certs.leaf('server', 'new-ca', 'reviews', [`DNS:${HOST}`])
      server = https.createServer(
        { cert: readFileSync(certs.pem('server')), key: readFileSync(certs.key('server')) },
        (_req, res) => res.end('ok'),
      )
      server.on('tlsClientError', () => {})
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      // The file the cluster trusts, as a mounted Secret would be: replaced in place later.
      trust = `${certs.dir}/trust.pem`
      copyFileSync(certs.pem('old-ca'), trust)
      const rot = cluster('rot', {
        service: { host: HOST, name: 'reviews', namespace: 'default', port: 9080 },
        tls: { mode: 'SIMPLE', caCertificates: trust },
      })
      const logger = pino(
        { level: 'info' },
        { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) },
      )
      proxy = await startTestProxy(
        gatewayConfig(
          [{ match: { path: { prefix: '/' } }, route: { clusters: [{ name: 'rot', weight: 1 }] } }],
          [rot],
          [endpoints('rot', [{ port: (server.address() as AddressInfo).port }])],
        ),
        { tlsReloadIntervalMs: 50, logger },
      )
    })

    afterAll(async () => {
      await proxy?.close()
      server?.closeAllConnections()
      await new Promise((r) => server?.close(r))
      certs?.remove()
    })

    it('uses a CA file replaced in place without a configuration change', async () => {
      expect(await status()).toBe(503) // the old CA does not trust the server
      const before = runtime()
      await new Promise((r) => setTimeout(r, 200)) // several intervals, nothing changed
      expect(runtime()).toBe(before)
      copyFileSync(certs.pem('new-ca'), trust)
      await until('the new CA to be used', async () => (await status()) === 200)
      expect(runtime()).not.toBe(before)
      expect(logs.some((l) => l.msg.startsWith('TLS files changed') && l.level === 30)).toBe(true)
    })

    it('keeps the last good files when the rotated ones are broken, and says why once', async () => {
      const good = runtime()
      writeFileSync(trust, 'not a certificate\n')
      await until('the refusal to be logged', async () => logs.some((l) => l.level === 50))
      await new Promise((r) => setTimeout(r, 200)) // more intervals: no new runtime, no repeated error
      expect(runtime()).toBe(good)
      expect(await status()).toBe(200)
      const errors = logs.filter((l) => l.level === 50)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatchObject({ cluster: 'rot' })
      expect(errors[0]!.reason).toMatch(/^Cluster rot: tls\.caCertificates: .*holds no PEM certificates/)
    })
  },
)
