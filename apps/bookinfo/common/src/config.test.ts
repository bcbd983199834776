import { describe, expect, it } from 'vitest'
import {
  parseDurationMs,
  parseProductId,
  readBoolean,
  readLogLevel,
  readPort,
  upstreamUrl,
} from './config.ts'
import { BookinfoError } from './errors.ts'

describe('upstreamUrl', () => {
  it('defaults to the Kubernetes service name on 9080', () => {
    expect(upstreamUrl({}, 'details')).toBe('http://details:9080')
  })

  it('takes <SERVICE>_HOSTNAME, <SERVICE>_SERVICE_PORT and SERVICES_DOMAIN', () => {
    const env = {
      RATINGS_HOSTNAME: 'ratings-v2',
      RATINGS_SERVICE_PORT: '8080',
      SERVICES_DOMAIN: 'bookinfo.svc',
    }
    expect(upstreamUrl(env, 'ratings')).toBe('http://ratings-v2.bookinfo.svc:8080')
    expect(upstreamUrl({ REVIEWS_HOSTNAME: '127.0.0.1' }, 'reviews')).toBe('http://127.0.0.1:9080')
  })

  it('rejects a host name with URL syntax in it', () => {
    expect(() => upstreamUrl({ DETAILS_HOSTNAME: 'evil/x?' }, 'details')).toThrow(
      /DETAILS_HOSTNAME=evil\/x\?/,
    )
  })
})

describe('readers', () => {
  it('readPort accepts 0..65535 and says which variable is wrong', () => {
    expect(readPort({}, 'PORT', 9080)).toBe(9080)
    expect(readPort({ PORT: ' 0 ' }, 'PORT', 9080)).toBe(0)
    expect(readPort({ PORT: '65535' }, 'PORT', 9080)).toBe(65535)
    for (const bad of ['65536', '-1', '80a', '9080.5']) {
      let caught: unknown
      try {
        readPort({ PORT: bad }, 'PORT', 9080)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(BookinfoError)
      expect(caught).toMatchObject({
        code: 'MESH_ERR_BOOKINFO_CONFIG',
        message: `PORT=${bad} is not a TCP port (0-65535)`,
      })
    }
  })

  it('parseDurationMs reads s, ms and bare milliseconds', () => {
    expect(parseDurationMs('7s', 'D')).toBe(7000)
    expect(parseDurationMs('1.5s', 'D')).toBe(1500)
    expect(parseDurationMs('250ms', 'D')).toBe(250)
    expect(parseDurationMs('40', 'D')).toBe(40)
    expect(() => parseDurationMs('7 seconds', 'RATINGS_DELAY')).toThrow(
      /RATINGS_DELAY=7 seconds is not a duration/,
    )
  })

  it('readBoolean and readLogLevel refuse what they do not know', () => {
    expect(readBoolean({ X: 'TRUE' }, 'X', false)).toBe(true)
    expect(readBoolean({}, 'X', true)).toBe(true)
    expect(() => readBoolean({ X: '1' }, 'X', false)).toThrow(/X=1 is not true or false/)
    expect(readLogLevel({})).toBe('info')
    expect(() => readLogLevel({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL=loud/)
  })

  it('parseProductId takes non-negative integers only', () => {
    expect(parseProductId('0')).toBe(0)
    expect(parseProductId('123')).toBe(123)
    for (const bad of [undefined, '', '-1', '1.0', '0x10', '1e3', ' 1', '9'.repeat(16)]) {
      expect(parseProductId(bad)).toBeUndefined()
    }
  })
})
