// The quota service alone in its own process (one Node thread = one core), for bench/src/quota.ts.
import * as grpc from '@grpc/grpc-js'
import { addQuotaService, MemoryQuotaBackend } from '@minimesh/control-plane/quota'

const server = new grpc.Server()
addQuotaService(server, new MemoryQuotaBackend())
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err
  process.send?.({ port })
})
process.on('disconnect', () => process.exit(0))
