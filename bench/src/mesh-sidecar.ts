// One benchmark sidecar process: the compiled proxy library (dist/, as mesh-proxy runs) started
// with a static configuration, the original destination fixed (no iptables here), and, when a
// certificate directory is given, a workload certificate in its CertificateStore (what the CSR
// client fills in a pod). Usage: node mesh-sidecar.ts CONFIG.json ORIGINAL_PORT [CERT_DIR]
// CERT_DIR holds chain.pem, key.pem, roots.pem and spiffe-id. Stops on SIGTERM.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CertificateStore, startProxy } from '@minimesh/proxy'

const [configPath, originalPort, certDir] = process.argv.slice(2)
if (!configPath || !originalPort)
  throw new Error('usage: mesh-sidecar.ts CONFIG.json ORIGINAL_PORT [CERT_DIR]')
const certs = new CertificateStore()
if (certDir) {
  const read = (f: string) => readFileSync(join(certDir, f), 'utf8')
  certs.set({
    spiffeId: read('spiffe-id').trim(),
    certChainPem: read('chain.pem'),
    keyPem: read('key.pem'),
    rootsPem: read('roots.pem'),
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 3600_000),
  })
}
const proxy = await startProxy({
  config: JSON.parse(readFileSync(configPath, 'utf8')),
  certificates: certs,
  adminPort: null,
  statsPort: null,
  healthPort: null,
  promPort: null,
  accessLog: 'off',
  originalDestination: () => ({ address: '127.0.0.1', port: Number(originalPort) }),
  identity: { workload: 'bench', namespace: 'default', serviceAccount: 'bench' },
})
await proxy.whenReady()
process.on('SIGTERM', () => {
  void proxy.close().then(() => process.exit(0))
})
