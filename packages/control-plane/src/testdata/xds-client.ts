// A test proxy: a real gRPC discovery client that subscribes to every type, records what it gets,
// and ACKs (or NACKs, or stays silent) as told; with `incremental` it asks for incremental
// responses and keeps the state they build. Not a mock of meshd: it talks to the real server.
import * as grpc from '@grpc/grpc-js'
import {
  type DiscoveryRequest,
  type DiscoveryResponse,
  decodeResource,
  loadDiscoveryProto,
  TYPE_ORDER,
  TypeUrl,
} from '@minimesh/api'

export interface Received {
  typeUrl: TypeUrl
  version: string
  nonce: string
  resources: { name: string; value: unknown }[]
  incremental: boolean
  removed: string[]
  at: number
}

export type Answer = 'ack' | 'silent' | { nack: string }

export class TestProxy {
  readonly received: Received[] = []
  private readonly client: grpc.Client
  private call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>
  private readonly accepted = new Map<TypeUrl, string>()
  /** The accepted resources per type, by name (full responses replace, incremental ones patch). */
  readonly state = new Map<TypeUrl, Map<string, unknown>>()
  private readonly incremental: boolean
  private waiters: (() => void)[] = []
  answer: (r: Received) => Answer = () => 'ack'
  ended?: grpc.StatusObject

  readonly node: { id: string; namespace?: string; labels?: Record<string, string> }

  constructor(
    address: string,
    node: { id: string; namespace?: string; labels?: Record<string, string> },
    options: {
      incremental?: boolean
      /** TLS to 15012 (default plaintext). */
      credentials?: grpc.ChannelCredentials
      channelOptions?: grpc.ChannelOptions
    } = {},
  ) {
    this.node = node
    this.incremental = options.incremental ?? false
    const Client = loadDiscoveryProto().minimesh.discovery.v1.DiscoveryService
    this.client = new Client(address, options.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      ...options.channelOptions,
    })
    this.call = this.open()
  }

  private open() {
    const call = (
      this.client as unknown as {
        StreamResources(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>
      }
    ).StreamResources()
    call.on('data', (res: DiscoveryResponse) => {
      const r: Received = {
        typeUrl: res.type_url as TypeUrl,
        version: res.version_info ?? '',
        nonce: res.nonce ?? '',
        resources: (res.resources ?? []).map((x) => ({ name: x.name ?? '', value: decodeResource(x) })),
        incremental: res.incremental === true,
        removed: res.removed_resources ?? [],
        at: performance.now(),
      }
      this.received.push(r)
      const answer = this.answer(r)
      if (answer === 'ack') {
        this.accept(r)
        call.write({ type_url: r.typeUrl, version_info: r.version, response_nonce: r.nonce })
      } else if (answer !== 'silent') {
        call.write({
          type_url: r.typeUrl,
          version_info: this.accepted.get(r.typeUrl) ?? '',
          response_nonce: r.nonce,
          error_detail: { code: 3, message: answer.nack },
        })
      }
      this.wake()
    })
    call.on('status', (s) => {
      this.ended = s
      this.wake()
    })
    call.on('error', () => {})
    for (const type of TYPE_ORDER)
      call.write({
        type_url: type,
        node: type === TYPE_ORDER[0] ? this.node : undefined,
        resource_names: [],
        incremental: this.incremental,
      })
    return call
  }

  private accept(r: Received): void {
    this.accepted.set(r.typeUrl, r.version)
    const next = new Map(r.incremental ? this.state.get(r.typeUrl) : [])
    for (const name of r.removed) next.delete(name)
    for (const { name, value } of r.resources) next.set(name, value)
    this.state.set(r.typeUrl, next)
  }

  /** ACKs a response received while answering 'silent'. */
  ack(r: Received): void {
    this.accept(r)
    this.call.write({ type_url: r.typeUrl, version_info: r.version, response_nonce: r.nonce })
  }

  /** Drops the stream and opens a new one (a proxy restart or a broken connection). */
  reconnect(): void {
    this.call.cancel()
    this.call = this.open()
  }

  /** The virtual hosts accepted (sent on their own, VHDS), in the order received. */
  virtualHosts<T = { name: string }>(): T[] {
    return [...(this.state.get(TypeUrl.VirtualHost)?.values() ?? [])].map(
      (v) => (v as { virtualHost: T }).virtualHost,
    )
  }

  of(type: TypeUrl): Received[] {
    return this.received.filter((r) => r.typeUrl === type)
  }

  last(type: TypeUrl): Received | undefined {
    return this.of(type).at(-1)
  }

  private wake() {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits until `pred` holds (checked on every response), or fails after `ms`. */
  async until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms
    while (!pred()) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what} (${this.node.id})`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50))
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  close(): void {
    this.call.cancel()
    this.client.close()
  }
}
