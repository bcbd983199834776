import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { inCidr } from './filter-chain.ts'
import { classifyFirstBytes, type SniffVerdict, sniff } from './sniff.ts'

describe('classifyFirstBytes', () => {
  it('tells HTTP/1.x request lines from other protocols', () => {
    expect(classifyFirstBytes(Buffer.from('GET / HTTP/1.1\r\n'))).toBe('http')
    expect(classifyFirstBytes(Buffer.from('OPTIONS * HTTP/1.1\r\n'))).toBe('http')
    expect(classifyFirstBytes(Buffer.from([0x16, 0x03, 0x01, 0x00]))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from('get / HTTP/1.1'))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from('GE'))).toBe('more')
    expect(classifyFirstBytes(Buffer.from('ABCDEFGHIJ'))).toBe('tcp')
  })
})

describe('classifyFirstBytes: the HTTP/2 preface', () => {
  const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

  it('says http2 for the whole preface (and what follows it)', () => {
    expect(classifyFirstBytes(Buffer.from(preface))).toBe('http2')
    expect(classifyFirstBytes(Buffer.concat([Buffer.from(preface), Buffer.from([0, 0, 0, 4, 0])]))).toBe(
      'http2',
    )
  })

  it('waits while the bytes are a prefix of the preface', () => {
    for (const n of [1, 3, 4, 8, 16, 23])
      expect(classifyFirstBytes(Buffer.from(preface.slice(0, n)))).toBe('more')
  })

  it('does not take look-alikes for HTTP/2', () => {
    expect(classifyFirstBytes(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from('PRI * HTTP/1.1\r\n'))).toBe('tcp')
    expect(classifyFirstBytes(Buffer.from('POST /x HTTP/1.1\r\n'))).toBe('http')
    expect(classifyFirstBytes(Buffer.from('PUT /x HTTP/1.1\r\n'))).toBe('http')
    expect(classifyFirstBytes(Buffer.from('PATCH /x HTTP/1.1\r\n'))).toBe('http')
  })
})

describe('sniff on a real connection', () => {
  const REQUEST = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'

  /**
   * Sniffs one accepted connection (timeout 50 ms). Once sniffing has started, the client writes
   * `send` (unless undefined), then the event loop is held for `stallMs`, as GC or a busy machine
   * would hold it.
   */
  async function verdict(send: string | undefined, stallMs: number): Promise<SniffVerdict> {
    let client: net.Socket | undefined
    const got = new Promise<SniffVerdict>((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => {
        sniff(socket, 50, (v) => {
          resolve(v)
          socket.destroy()
          client?.destroy()
          server.close()
        })
        // From the check phase, so that the next loop turn starts with the timers, then reads.
        setTimeout(
          () =>
            setImmediate(() => {
              if (send !== undefined) client!.write(send)
              const until = performance.now() + stallMs
              while (performance.now() < until);
            }),
          5,
        )
      })
      server.listen(0, '127.0.0.1', () => {
        client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
        client.on('error', () => {})
      })
    })
    return got
  }

  it('says tcp for a client that sends nothing within the timeout', async () => {
    expect(await verdict(undefined, 0)).toBe('tcp')
  })

  it('says http for a request line, also when it came during a stall longer than the timeout', async () => {
    expect(await verdict(REQUEST, 0)).toBe('http')
    // When the loop resumes the timer is due before the socket is read: the bytes must still win.
    expect(await verdict(REQUEST, 150)).toBe('http')
  })
})

describe('inCidr', () => {
  it('matches IPv4 prefixes and bare addresses', () => {
    expect(inCidr('198.19.0.12', '198.19.0.0/16')).toBe(true)
    expect(inCidr('198.20.0.12', '198.19.0.0/16')).toBe(false)
    expect(inCidr('10.1.2.3', '0.0.0.0/0')).toBe(true)
    expect(inCidr('10.1.2.3', '10.1.2.3')).toBe(true)
    expect(inCidr('10.1.2.4', '10.1.2.3/32')).toBe(false)
    expect(inCidr('::1', '::1')).toBe(true)
  })

  it('matches IPv6 prefixes, and IPv4-mapped addresses in IPv4 prefixes', () => {
    expect(inCidr('fd00:10::5', 'fd00:10::/64')).toBe(true)
    expect(inCidr('fd00:10:0:1::5', 'fd00:10::/64')).toBe(false)
    expect(inCidr('2001:db8::1', '::/0')).toBe(true)
    expect(inCidr('fd00::1', 'fd00::1')).toBe(true)
    expect(inCidr('fd00::2', 'fd00::1/128')).toBe(false)
    expect(inCidr('::ffff:198.19.0.12', '198.19.0.0/16')).toBe(true)
    expect(inCidr('198.19.0.12', 'fd00:10::/64')).toBe(false)
    expect(inCidr('fd00:10::5', '198.19.0.0/16')).toBe(false)
  })

  it('is false for what is not an address or not a range', () => {
    expect(inCidr('not-an-ip', '0.0.0.0/0')).toBe(false)
    expect(inCidr('10.1.2.3', '10.1.2.0/33')).toBe(false)
    expect(inCidr('10.1.2.3', '10.1.2.0/x')).toBe(false)
    expect(inCidr('10.1.2.3', 'example.com')).toBe(false)
  })
})
