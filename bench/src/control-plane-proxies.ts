/**
 * The 1,000 proxies of `pnpm bench:control-plane`, in their own process (forked by
 * control-plane.ts): one gRPC channel and discovery stream each, subscribing to every type (taking
 * incremental responses, as mesh-proxy does, unless told not to) and ACKing every response at once. Resources are not JSON-decoded (a real proxy does that on its own
 * core; here one process stands in for 1,000 proxies and must not become the bottleneck).
 * Messages: in {address, namespace, proxies: [{id, labels}], incremental}; out 'ready' once every proxy ACKed every type;
 * in 'cpu', out {cpu: process.cpuUsage()}; in 'stop'.
 */
import * as grpc from '@grpc/grpc-js'
import { type DiscoveryRequest, type DiscoveryResponse, loadDiscoveryProto, TYPE_ORDER } from '@minimesh/api'

interface Start {
  address: string
  namespace: string
  proxies: { id: string; labels: Record<string, string> }[]
  incremental: boolean
}

const start = await new Promise<Start>((resolve) => process.once('message', (m) => resolve(m as Start)))
const Client = loadDiscoveryProto().minimesh.discovery.v1.DiscoveryService
const clients: grpc.Client[] = []
let complete = 0

for (const p of start.proxies) {
  const client = new Client(start.address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // As Envoy does (256 MiB windows), so a large state of the world is not paced by 64 KiB windows.
    'grpc-node.flow_control_window': 16 * 1024 * 1024,
  })
  clients.push(client)
  const call = (
    client as unknown as { StreamResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> }
  ).StreamResources()
  const seen = new Set<string>()
  call.on('data', (res: DiscoveryResponse) => {
    call.write({ type_url: res.type_url, version_info: res.version_info, response_nonce: res.nonce })
    if (seen.size < TYPE_ORDER.length) {
      seen.add(res.type_url ?? '')
      if (seen.size === TYPE_ORDER.length && ++complete === start.proxies.length) process.send?.('ready')
    }
  })
  call.on('error', (err) => {
    console.error(`proxy ${p.id}: ${err.message}`)
  })
  const node = { id: p.id, namespace: start.namespace, labels: p.labels }
  for (const [i, type] of TYPE_ORDER.entries())
    call.write({ type_url: type, node: i === 0 ? node : undefined, incremental: start.incremental })
}

process.on('message', (m) => {
  if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() })
  if (m === 'stop') {
    for (const c of clients) c.close()
    process.exit(0)
  }
})
