import * as grpc from '@grpc/grpc-js'
import { afterAll, describe, expect, it } from 'vitest'
import { FRAMED, type FramedMessage, installZeroCopyFraming } from './framing.ts'

function framed(payload: string): FramedMessage {
  const body = Buffer.from(payload)
  const frame = Buffer.alloc(5 + body.length)
  frame.writeUInt8(0, 0) // not compressed
  frame.writeUInt32BE(body.length, 1)
  body.copy(frame, 5)
  return { [FRAMED]: true, frame }
}

describe('installZeroCopyFraming', () => {
  const server = new grpc.Server()
  afterAll(() => server.forceShutdown())

  it('patches the grpc-js a server uses: a FramedMessage goes out as its bytes, without the serializer', async () => {
    // Fails when the pinned grpc-js no longer has the method this wraps (an upgrade moved it).
    expect(installZeroCopyFraming()).toBe(true)

    let serialized = 0
    const path = '/minimesh.test.Framing/Stream'
    server.addService(
      {
        stream: {
          path,
          requestStream: false,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: () => {
            serialized++
            return Buffer.from('from the serializer')
          },
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        stream: (call: grpc.ServerWritableStream<Buffer, unknown>) => {
          call.write(framed('framed once, written as is'))
          call.write(Buffer.from('anything else'))
          call.end()
        },
      },
    )
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    )
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
    try {
      const stream = client.makeServerStreamRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
      )
      const got: string[] = []
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (b: Buffer) => got.push(b.toString()))
        stream.on('end', resolve)
        stream.on('error', reject)
      })
      // Without the patch the FramedMessage would have gone through the serializer too.
      expect(got).toEqual(['framed once, written as is', 'from the serializer'])
      expect(serialized).toBe(1)
    } finally {
      client.close()
    }
  })
})
