// Every meshctl command parses its flags through its option table: a bad value is a usage error
// (exit 2) naming the flag and the value, before anything is contacted; --help lists the table.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { meshctl as runMeshctl } from '../testdata/meshctl.ts'

const meshctl = (...argv: string[]) => runMeshctl(argv)

describe('meshctl flags', () => {
  it.each([
    [
      ['install', '--timeout', 'soon'],
      'install: --timeout soon: not a duration (e.g. 90, 300s, 5m, 1h30m, 1500ms)',
    ],
    [['install', '--gateway-node-port', '0'], 'install: --gateway-node-port 0: not a port (1–65535)'],
    [['install', '--trace-sampling', 'most'], 'install: --trace-sampling most: not a number'],
    [['uninstall', '--timeout', '5 min'], 'uninstall: --timeout "5 min": not a duration'],
    [['manifest', 'generate', '-o', 'xml'], 'manifest: -o xml: must be one of yaml, json'],
    [
      ['manifest', 'generate', '--trace-format', 'jaeger'],
      'manifest: --trace-format jaeger: must be one of zipkin, otlp',
    ],
    [['apply', '-f', 'x.yaml', '--timeout', 'x'], 'apply: --timeout x: not a duration'],
    [['get', 'vs', '-o', 'xml'], 'get: -o xml: must be one of wide, yaml, json, name'],
    [['wait', '--for=frob'], 'wait: --for frob: must be one of sync'],
    [['wait', '--for=sync', '--timeout=-1s'], 'wait: --timeout -1s: not a duration'],
    [['proxy-status', '-o', 'yaml'], 'proxy-status: -o yaml: must be one of json'],
    [
      ['proxy-config', 'routes', '--output', 'yaml'],
      'proxy-config: --output yaml: must be one of table, json',
    ],
    [['describe', 'svc', 'reviews', '-n'], "describe: Option '-n, --namespace <value>' argument missing"],
    [['analyze', '-o', 'xml', 'a.yaml'], 'analyze: -o xml: must be one of text, json'],
    [['analyze', '--frob', 'a.yaml'], "analyze: Unknown option '--frob'"],
    [['kube-inject', '-f', 'a.yaml', '--frob'], "kube-inject: Unknown option '--frob'"],
    [['dashboard', '--port', '70000'], 'dashboard: --port 70000: not a port (0–65535)'],
    [['dashboard', '--window', '0'], 'dashboard: --window 0: must be at least 1'],
    [
      ['local', 'up', '--timeout', 'soon', '--run-dir', '/nonexistent'],
      'local: --timeout soon: not a duration',
    ],
    [['local', 'wait', '--for', 'done'], 'local: --for done: must be one of ready, sync'],
    [
      ['local', 'port-forward', 'p', '8000:70000', '--run-dir', '/nonexistent'],
      'local: bad port "8000:70000"',
    ],
    [['version', 'extra'], "version: Unexpected argument 'extra'"],
  ])('%j: %s', async (argv, message) => {
    const r = await meshctl(...argv)
    expect(r.code).toBe(2)
    expect(r.err.startsWith(`meshctl ${message}`)).toBe(true)
    expect(r.err).toMatch(/\nUsage: meshctl /)
  })

  it('a usage error shows the synopsis only; --help the flags from the table', async () => {
    const bad = await meshctl('install', '--timeout', 'soon')
    expect(bad.err).not.toMatch(/--take-over-crds +apply/)
    const help = await meshctl('install', '--help')
    expect(help.code).toBe(0)
    expect(help.out).toMatch(
      /--timeout DURATION +for each wait \(CRDs, each rollout\); e\.g\. 300s, 5m \(default 300s\)/,
    )
    expect(help.out).toMatch(/--gateway-node-port PORT/)
    expect(help.out).toMatch(/--trace-format zipkin\|otlp +span format \(default zipkin\)/)
    const local = await meshctl('local', 'wait', '--help')
    expect(local.out).toMatch(/--for ready\|sync +what to wait for \(default ready\)/)
    expect(local.out).toMatch(/--run-dir DIR/)
  })

  it('the real meshctl exits 2 naming the flag and the value', async () => {
    const main = fileURLToPath(new URL('../main.ts', import.meta.url))
    const r = await promisify(execFile)(process.execPath, [
      '--conditions=@minimesh/source',
      main,
      'proxy-status',
      '-o',
      'yaml',
    ]).catch((e: { code: number; stderr: string }) => e)
    expect(r).toMatchObject({ code: 2 })
    expect((r as { stderr: string }).stderr).toMatch(
      /^meshctl proxy-status: -o yaml: must be one of json\nUsage: meshctl proxy-status \[-o json\]/,
    )
  })
})
