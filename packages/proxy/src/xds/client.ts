// The discovery client: one gRPC stream to the control plane (xDS). It asks for every type with
// this proxy's node, taking incremental responses (only the changes since the last accepted one),
// validates and applies each response through the store, ACKs (version = response version) or NACKs (version = last accepted, error_detail =
// the reason) it, and reconnects with jittered exponential backoff when the stream ends — the
// last good configuration keeps serving meanwhile.
import * as grpc from '@grpc/grpc-js'
import {
  type DiscoveryRequest,
  type DiscoveryResponse,
  type DiscoveryServiceClient,
  decodeResource,
  loadDiscoveryProto,
  type Node,
  TYPE_ORDER,
  type TypeUrl,
} from '@minimesh/api'
import type { Logger } from 'pino'
import type { XdsConfigStore } from '../config/store.ts'
import { ConfigError } from '../errors.ts'
import { explainTlsFailure } from '../identity/ca-client.ts'

export interface XdsClientOptions {
  /** `host:port` of the discovery server. */
  address: string
  /** Channel credentials (default plaintext, 15010; TLS verified against the mesh roots on 15012). */
  credentials?: grpc.ChannelCredentials
  node: Node
  store: XdsConfigStore
  log: Logger
  initialBackoffMs?: number
  maxBackoffMs?: number
}

export type XdsEvent =
  | { kind: 'ack'; typeUrl: string; version: string; nonce: string }
  | { kind: 'nack'; typeUrl: string; version: string; nonce: string; message: string }
  | { kind: 'connected' }
  | { kind: 'disconnected'; error: string }

/** grpc status INVALID_ARGUMENT, the code a NACK carries. */
const INVALID_ARGUMENT = 3

export class XdsClient {
  private readonly opts: Required<Pick<XdsClientOptions, 'initialBackoffMs' | 'maxBackoffMs'>> &
    XdsClientOptions
  private client: DiscoveryServiceClient | undefined
  private stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> | undefined
  private timer: NodeJS.Timeout | undefined
  private backoff: number
  private closed = false
  private readonly listeners: ((e: XdsEvent) => void)[] = []
  readonly stats = {
    connects: 0,
    /** gRPC channels opened (the first, then one after each stream that got no response). */
    channels: 1,
    acks: 0,
    nacks: 0,
    lastNack: '' as string,
    lastError: '' as string,
  }

  constructor(opts: XdsClientOptions) {
    this.opts = { initialBackoffMs: 500, maxBackoffMs: 30_000, ...opts }
    this.backoff = this.opts.initialBackoffMs
  }

  /** Observes ACKs, NACKs and connection changes (tests, logs). */
  on(listener: (e: XdsEvent) => void): void {
    this.listeners.push(listener)
  }

  private emit(e: XdsEvent): void {
    for (const l of this.listeners) l(e)
  }

  start(): void {
    this.client = this.newChannel()
    this.connect()
  }

  private newChannel(): DiscoveryServiceClient {
    const proto = loadDiscoveryProto()
    const Ctor = proto.minimesh.discovery.v1.DiscoveryService
    return new Ctor(this.opts.address, this.opts.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // Large state-of-the-world responses (a mesh-wide route table) arrive without window stalls.
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
    }) as unknown as DiscoveryServiceClient
  }

  private connect(): void {
    if (this.closed || !this.client) return
    const stream = this.client.StreamResources()
    this.stream = stream
    this.stats.connects++
    let ended = false
    let answered = false
    const onEnd = (why: string) => {
      if (ended) return
      ended = true
      if (this.stream === stream) this.stream = undefined
      if (this.closed) return
      if (!answered) {
        // Whatever answered at this address never sent a response (a connection to an address
        // that no longer belongs to the control plane, e.g. a Service's ClusterIP from before it
        // was recreated, still cached by DNS): a new channel resolves the name and connects again,
        // where gRPC would keep reusing the established connection.
        this.client?.close()
        this.client = this.newChannel()
        this.stats.channels++
      }
      this.stats.lastError = why
      this.emit({ kind: 'disconnected', error: why })
      const delay = Math.round(this.backoff * (0.5 + Math.random() * 0.5))
      this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs)
      this.opts.log.warn(
        { address: this.opts.address, retryInMs: delay, reason: why },
        'discovery stream closed',
      )
      this.timer = setTimeout(() => this.connect(), delay)
    }
    stream.on('data', (resp: DiscoveryResponse) => {
      answered = true
      this.backoff = this.opts.initialBackoffMs
      this.onResponse(stream, resp)
    })
    stream.on('error', (err: Error) =>
      onEnd(this.opts.credentials ? explainTlsFailure(err.message) : err.message),
    )
    stream.on('end', () => onEnd('stream ended by server'))
    const { store, node } = this.opts
    for (const typeUrl of TYPE_ORDER) {
      stream.write({
        version_info: store.versions[typeUrl],
        node,
        resource_names: [],
        type_url: typeUrl,
        response_nonce: '',
        incremental: true,
      })
    }
    this.emit({ kind: 'connected' })
  }

  private onResponse(
    stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    resp: DiscoveryResponse,
  ): void {
    const typeUrl = resp.type_url ?? ''
    const nonce = resp.nonce ?? ''
    const version = resp.version_info ?? ''
    const { store, log } = this.opts
    if (!(TYPE_ORDER as readonly string[]).includes(typeUrl)) {
      this.nack(stream, typeUrl, '', nonce, `unknown type_url ${typeUrl}`)
      return
    }
    const t = typeUrl as TypeUrl
    try {
      const resources = (resp.resources ?? []).map((r) => {
        try {
          return decodeResource(r)
        } catch (cause) {
          throw new ConfigError(
            r.name ?? '',
            `resource ${r.name}: invalid JSON: ${(cause as Error).message}`,
            { cause },
          )
        }
      })
      store.apply(
        t,
        resources,
        version,
        resp.incremental ? { removed: resp.removed_resources ?? [] } : undefined,
      )
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : `internal error: ${(err as Error).message}`
      if (!(err instanceof ConfigError)) log.error({ err }, 'applying configuration failed')
      this.nack(stream, t, store.versions[t], nonce, message)
      return
    }
    stream.write({ version_info: version, type_url: t, response_nonce: nonce, resource_names: [] })
    this.stats.acks++
    log.info(
      {
        typeUrl: t,
        version,
        resources: resp.resources?.length ?? 0,
        ...(resp.incremental ? { incremental: true, removed: resp.removed_resources?.length ?? 0 } : {}),
      },
      'configuration accepted',
    )
    this.emit({ kind: 'ack', typeUrl: t, version, nonce })
  }

  private nack(
    stream: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>,
    typeUrl: string,
    lastVersion: string,
    nonce: string,
    message: string,
  ): void {
    stream.write({
      version_info: lastVersion,
      type_url: typeUrl,
      response_nonce: nonce,
      resource_names: [],
      error_detail: { code: INVALID_ARGUMENT, message },
    })
    this.stats.nacks++
    this.stats.lastNack = message
    this.opts.log.warn({ typeUrl, nonce, reason: message }, 'configuration rejected (NACK)')
    this.emit({ kind: 'nack', typeUrl, version: lastVersion, nonce, message })
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.stream?.cancel()
    this.stream = undefined
    this.client?.close()
  }
}
