// Test gRPC service: a real @grpc/grpc-js server and client for `test.Echo`, with messages as raw
// bytes (no .proto needed): Say echoes with the server's name and sets a trailer; Flaky answers
// UNAVAILABLE (trailers-only) until it has been called `failFirst` times; Abort and Nowhere are
// never meant to arrive (their routes answer first).
import * as grpc from '@grpc/grpc-js'

const raw = (b: Buffer) => b

function method(name: string): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/test.Echo/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  }
}

export const echoService = {
  Say: method('Say'),
  Flaky: method('Flaky'),
  Abort: method('Abort'),
  /** Routed to a cluster without endpoints. */
  Nowhere: method('Nowhere'),
} satisfies grpc.ServiceDefinition

export interface SeenCall {
  method: string
  authority: string
  metadata: Record<string, unknown>
}

export interface EchoServer {
  port: number
  name: string
  calls: SeenCall[]
  close(): Promise<void>
}

type Unary = grpc.handleUnaryCall<Buffer, Buffer>

export async function startEchoServer(name: string, failFirst = 0): Promise<EchoServer> {
  const calls: SeenCall[] = []
  const server = new grpc.Server()
  const seen = (m: string, call: grpc.ServerUnaryCall<Buffer, Buffer>) =>
    calls.push({ method: m, authority: call.getHost(), metadata: call.metadata.getMap() })
  let flaky = 0
  const trailer = () => {
    const md = new grpc.Metadata()
    md.set('x-served-by', name)
    return md
  }
  const say: Unary = (call, cb) => {
    seen('Say', call)
    cb(null, Buffer.concat([Buffer.from(`${name}:`), call.request]), trailer())
  }
  const flakyCall: Unary = (call, cb) => {
    seen('Flaky', call)
    if (++flaky <= failFirst) cb({ code: grpc.status.UNAVAILABLE, details: 'not yet' })
    else cb(null, Buffer.from(`${name}:ok after ${flaky}`), trailer())
  }
  const abort: Unary = (call, cb) => {
    seen(call.getPath(), call)
    cb(null, Buffer.from('should have been aborted'))
  }
  server.addService(echoService, { Say: say, Flaky: flakyCall, Abort: abort, Nowhere: abort })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  )
  return {
    port,
    name,
    calls,
    close: () => new Promise<void>((r) => server.tryShutdown(() => r())),
  }
}

const EchoClient = grpc.makeGenericClientConstructor(echoService, 'Echo')

export interface UnaryResult {
  error: grpc.ServiceError | undefined
  response: Buffer | undefined
  /** Trailing metadata (grpc-status arrives with it). */
  status: grpc.StatusObject
}

export interface EchoClientHandle {
  call(m: keyof typeof echoService, body: string, metadata?: Record<string, string>): Promise<UnaryResult>
  close(): void
}

/** A grpc-js client to 127.0.0.1:port (plaintext HTTP/2). */
export function echoClient(port: number): EchoClientHandle {
  const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  return {
    call: (m, body, metadata = {}) =>
      new Promise((resolve) => {
        const md = new grpc.Metadata()
        for (const [k, v] of Object.entries(metadata)) md.set(k, v)
        let error: grpc.ServiceError | undefined
        let response: Buffer | undefined
        const fn = client[m] as unknown as (
          req: Buffer,
          md: grpc.Metadata,
          opts: grpc.CallOptions,
          cb: (e: grpc.ServiceError | null, r?: Buffer) => void,
        ) => grpc.ClientUnaryCall
        const call = fn.call(client, Buffer.from(body), md, { deadline: Date.now() + 5000 }, (e, r) => {
          error = e ?? undefined
          response = r
        })
        call.on('status', (status: grpc.StatusObject) => {
          // The callback runs before 'status' in grpc-js; give it a turn if it has not.
          setImmediate(() => resolve({ error, response, status }))
        })
      }),
    close: () => client.close(),
  }
}
