// mesh-proxy's command line: every flag checked against its option table, bad values rejected with
// the flag named (MESH_ERR_PROXY_BAD_OPTION), and the real entry point failing with exit code 1.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseProxyArgs, parseWaitArgs, usage } from './cli.ts'

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url))

function failure(fn: () => unknown): { code?: string; message: string } {
  try {
    fn()
  } catch (err) {
    return err as { code?: string; message: string }
  }
  throw new Error('no error')
}

describe('mesh-proxy flags', () => {
  it('keeps the defaults and reads every flag, typed', () => {
    const { mode, values } = parseProxyArgs(['--config', 'c.yaml'])
    expect(mode).toBe('sidecar')
    expect(values).toMatchObject({
      'admin-port': 15000,
      'stats-port': 15020,
      'health-port': 15021,
      'access-log': 'stdout',
      'log-level': 'info',
      'drain-seconds': undefined,
      'min-drain-seconds': 5,
      'max-header-kb': 60,
      'quota-timeout-ms': 200,
      'quota-fail-closed': false,
      'port-map': new Map(),
    })
    const router = parseProxyArgs([
      'router',
      ...['--admin-port', '0', '--port-map', '8080=0', '--port-map', '15001=16001'],
      ...['--drain-seconds', '1.5', '--min-drain-seconds', '0', '--max-header-kb', '8'],
      ...['--quota-timeout-ms', '50', '--quota-fail-closed', '--workload-cert-ttl', '3600'],
      ...['--trace-format', 'otlp', '--trace-sampling', '12.5', '--log-level', 'warn'],
    ])
    expect(router.mode).toBe('router')
    expect(router.values).toMatchObject({
      'admin-port': 0,
      'port-map': new Map([
        [8080, 0],
        [15001, 16001],
      ]),
      'drain-seconds': 1.5,
      'min-drain-seconds': 0,
      'max-header-kb': 8,
      'quota-timeout-ms': 50,
      'quota-fail-closed': true,
      'workload-cert-ttl': 3_600_000,
      'trace-format': 'otlp',
      'trace-sampling': 12.5,
      'log-level': 'warn',
    })
    expect(parseWaitArgs([])).toEqual({ 'health-port': 15021, timeout: 600_000 })
    expect(parseWaitArgs(['--timeout', '1', '--health-port', '0'])).toEqual({
      'health-port': 0,
      timeout: 1000,
    })
  })

  it('takes the environment the injector sets where a flag is absent', () => {
    const env = {
      MESH_DISCOVERY_ADDRESS: 'meshd:15010',
      MESH_CA_ADDRESS: 'meshd:15012',
      MESH_WORKLOAD_CERT_TTL: '2h',
      MESH_TRACE_COLLECTOR: 'zipkin:9411',
      MESH_TRACE_FORMAT: 'zipkin',
      MESH_TRACE_SAMPLING: '100',
    }
    expect(parseProxyArgs([], env).values).toMatchObject({
      'discovery-address': 'meshd:15010',
      'ca-address': 'meshd:15012',
      'workload-cert-ttl': 7_200_000,
      'trace-collector': 'zipkin:9411',
      'trace-format': 'zipkin',
      'trace-sampling': 100,
    })
    expect(parseProxyArgs(['--discovery-address', 'other:1'], env).values['discovery-address']).toBe(
      'other:1',
    )
  })

  it.each([
    [['--port-map', '8080'], '--port-map 8080: expected FROM=TO, e.g. 15001=0'],
    [['--port-map', '8080=http'], '--port-map 8080=http: http: not a port (0–65535)'],
    [['--drain-seconds', 'abc'], '--drain-seconds abc: not a number'],
    [['--min-drain-seconds=-1'], '--min-drain-seconds -1: must be at least 0'],
    [['--admin-port', '70000'], '--admin-port 70000: not a port (0–65535)'],
    [['--outbound-port', 'x'], '--outbound-port x: not a port (0–65535)'],
    [['--max-header-kb', '6O'], '--max-header-kb 6O: not a number'],
    [['--quota-timeout-ms', '0'], '--quota-timeout-ms 0: must be at least 1'],
    [['--workload-cert-ttl', '500ms'], '--workload-cert-ttl 500ms: must be at least 1s'],
    [['--trace-sampling', '150'], '--trace-sampling 150: must be between 0 and 100'],
    [['--trace-format', 'jaeger'], '--trace-format jaeger: must be one of zipkin, otlp'],
    [
      ['--log-level', 'loud'],
      '--log-level loud: must be one of trace, debug, info, warn, error, fatal, silent',
    ],
    [['--nope'], "Unknown option '--nope'"],
    [['gateway'], 'unknown mode gateway'],
  ])('%j: %s', (argv, message) => {
    const err = failure(() => parseProxyArgs(argv))
    expect(err.code).toBe('MESH_ERR_PROXY_BAD_OPTION')
    expect(err.message.split('\n')[0]!.startsWith(message)).toBe(true)
  })

  it('names the environment variable a bad value came from', () => {
    const err = failure(() => parseProxyArgs([], { MESH_WORKLOAD_CERT_TTL: 'forever' }))
    expect(err.message).toMatch(/^MESH_WORKLOAD_CERT_TTL=forever: not a duration/)
    expect(failure(() => parseWaitArgs(['--timeout', 'soon'])).message).toMatch(
      /^--timeout soon: not a duration/,
    )
  })

  it('generates its usage from the table', () => {
    const text = usage()
    for (const flag of [
      '--discovery-address',
      '--port-map FROM=TO',
      '--drain-seconds N',
      '--timeout SECONDS',
    ])
      expect(text).toContain(flag)
    expect(text).toMatch(/--admin-port PORT +admin on 127\.0\.0\.1 \(default 15000\)/)
  })

  it('the real binary exits 1 naming the flag and the bad value', () => {
    const run = spawnSync(
      process.execPath,
      ['--conditions=@minimesh/source', MAIN, 'router', '--config', 'x.yaml', '--port-map', '8080'],
      { encoding: 'utf8', env: { ...process.env, MESH_PROXY_NODE_FLAGS: '' } },
    )
    expect(run.status).toBe(1)
    expect(run.stderr).toBe(
      'mesh-proxy: --port-map 8080: expected FROM=TO, e.g. 15001=0 [MESH_ERR_PROXY_BAD_OPTION]\n',
    )
  })
})
