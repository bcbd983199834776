// Traffic mirroring (Istio `mirror`): a copy of the request goes to another cluster, fire and
// forget. The copy's Host gets Envoy's `-shadow` suffix; its response is read and dropped.
import type { Dispatcher } from 'undici'
import type { ClusterRuntime } from '../cluster/cluster.ts'
import { Lease } from '../cluster/lease.ts'

class Drain implements Dispatcher.DispatchHandler {
  private readonly lease: Lease
  constructor(lease: Lease) {
    this.lease = lease
  }
  onRequestStart(): void {}
  onResponseEnd(): void {
    this.lease.release()
  }
  onResponseStart(): void {}
  onResponseData(): void {}
  onResponseError(): void {
    this.lease.release()
  }
}

function shadowHost(host: string): string {
  const colon = host.lastIndexOf(':')
  if (colon > 0 && !host.endsWith(']')) return `${host.slice(0, colon)}-shadow${host.slice(colon)}`
  return `${host}-shadow`
}

export function mirror(
  cluster: ClusterRuntime,
  method: string,
  path: string,
  headers: readonly string[],
  body: Buffer | null,
): void {
  const host = cluster.choose(undefined)
  // A mirror never waits for a slot: when the pool is full, the copy is dropped.
  const lease = host && Lease.tryTake(cluster, host)
  if (!lease) return
  const copy = headers.slice()
  for (let i = 0; i < copy.length; i += 2) if (copy[i] === 'host') copy[i + 1] = shadowHost(copy[i + 1]!)
  cluster.stats.upstream_rq_total++
  lease.host.dispatch({ path, method, headers: copy, body }, new Drain(lease))
}
