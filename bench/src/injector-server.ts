// One webhook process for bench/src/injector.ts. argv: mode (webhook | node-https) certFile keyFile.
// - webhook: createWebhookServer from @minimesh/injector, exactly as meshd serves it;
// - node-https: the floor: node:https reading the body, JSON.parse, a fixed allowed review back.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createWebhookServer } from '@minimesh/injector'

const [mode, certFile, keyFile] = process.argv.slice(2) as [string, string, string]

if (mode === 'webhook') {
  const server = createWebhookServer({
    certFile,
    keyFile,
    namespaceLookup: () => ({ 'minimesh-injection': 'enabled' }),
  })
  const addr = await server.listen(0, '127.0.0.1')
  process.send?.({ port: addr.port })
} else {
  const server = createServer(
    { cert: readFileSync(certFile), key: readFileSync(keyFile), keepAliveTimeout: 60_000 },
    (req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString()) as { request: { uid: string } }
        res.setHeader('content-type', 'application/json')
        res.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: { uid: review.request.uid, allowed: true },
          }),
        )
      })
    },
  )
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }))
}
process.on('disconnect', () => process.exit(0))
