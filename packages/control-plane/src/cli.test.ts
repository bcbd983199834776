// meshd's command line: its option table, the defaults it keeps, and bad values rejected with the
// flag named (MESH_ERR_MESHD_BAD_FLAG). main.test.ts runs the real binary.
import { describe, expect, it } from 'vitest'
import { parseMeshdArgs, usage } from './cli.ts'

function failure(argv: string[]): { code?: string; message: string } {
  try {
    parseMeshdArgs(argv)
  } catch (err) {
    return err as { code?: string; message: string }
  }
  throw new Error(`parsed: ${argv.join(' ')}`)
}

describe('meshd flags', () => {
  it('keeps its defaults', () => {
    expect(parseMeshdArgs([])).toMatchObject({
      'secure-grpc-address': '0.0.0.0:15012',
      'workload-cert-ttl': 86_400_000,
      'max-workload-cert-ttl': 2160 * 3_600_000,
      'native-sidecars': 'auto',
      endpoints: undefined,
      'quota-backend': 'memory',
      'redis-url': 'redis://127.0.0.1:6379',
      'trace-format': undefined,
      'trace-sampling': undefined,
      'no-status': false,
      'log-level': 'info',
    })
  })

  it('reads typed values', () => {
    expect(
      parseMeshdArgs([
        ...['--workload-cert-ttl', '1h', '--max-workload-cert-ttl', '48h', '--native-sidecars', 'true'],
        ...['--endpoints', 'Endpoints', '--quota-backend', 'redis', '--trace-sampling', '0.5'],
        ...['--trace-format', 'otlp', '--no-status', '--webhook-cert', 'c.pem', '--webhook-key', 'k.pem'],
      ]),
    ).toMatchObject({
      'workload-cert-ttl': 3_600_000,
      'max-workload-cert-ttl': 172_800_000,
      'native-sidecars': 'true',
      endpoints: 'Endpoints',
      'quota-backend': 'redis',
      'trace-sampling': 0.5,
      'trace-format': 'otlp',
      'no-status': true,
    })
  })

  it.each([
    [
      ['--workload-cert-ttl', 'abc'],
      '--workload-cert-ttl abc: not a duration (e.g. 300s, 5m, 1h30m, 1500ms)',
    ],
    [['--max-workload-cert-ttl', '500ms'], '--max-workload-cert-ttl 500ms: must be at least 1s'],
    [['--native-sidecars', 'yes'], '--native-sidecars yes: must be one of auto, true, false'],
    [['--endpoints', 'endpointslice'], '--endpoints endpointslice: must be one of EndpointSlice, Endpoints'],
    [['--quota-backend', 'etcd'], '--quota-backend etcd: must be one of memory, redis'],
    [['--trace-format', 'jaeger'], '--trace-format jaeger: must be one of zipkin, otlp'],
    [['--trace-sampling', 'all'], '--trace-sampling all: not a number'],
    [['--trace-sampling', '101'], '--trace-sampling 101: must be between 0 and 100'],
    [
      ['--log-level', 'verbose'],
      '--log-level verbose: must be one of trace, debug, info, warn, error, fatal, silent',
    ],
    [['--webhook-cert', 'c.pem'], '--webhook-cert and --webhook-key go together'],
    [['--nope'], "Unknown option '--nope'"],
    [['serve'], "Unexpected argument 'serve'"],
  ])('%j: %s', (argv, message) => {
    const err = failure(argv)
    expect(err.code).toBe('MESH_ERR_MESHD_BAD_FLAG')
    expect(err.message.startsWith(message)).toBe(true)
  })

  it('generates its usage from the table', () => {
    const text = usage()
    expect(text).toMatch(/^Usage: meshd \[flags\]\n/)
    expect(text).toMatch(/--workload-cert-ttl DUR +workload certificate validity [^(]*\(default\s+24h\)/)
    expect(text).toMatch(/\(default\s+2160h\s+=\s+90\s+days\)/)
    expect(text).toMatch(/--quota-backend memory\|redis/)
  })
})
