// The proxy image, started with testcontainers: `mesh-proxy router --config FILE` routes a request
// to a Bookinfo container on the same network and logs it; it runs as the proxy user (uid 1337,
// which the capture rules exclude). `mesh-init --dry-run` prints the iptables-restore rules and
// changes nothing; iptables is in the image.
import {
  GenericContainer,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, mainProcessCommand, mainProcessUids, url } from './images.ts'

/** A gateway listener on 8080 sending everything to the `details` cluster (one endpoint). */
function gatewayConfig(detailsAddress: string): string {
  return JSON.stringify({
    listeners: [
      {
        name: '0.0.0.0_8080',
        trafficDirection: 'GATEWAY',
        address: '0.0.0.0',
        port: 8080,
        bindToPort: true,
        filterChains: [{ name: 'http', http: { routeConfigName: 'http.8080' } }],
      },
    ],
    routes: [
      {
        name: 'http.8080',
        virtualHosts: [
          {
            name: 'all',
            domains: ['*'],
            routes: [{ match: {}, route: { clusters: [{ name: 'details', weight: 1 }] } }],
          },
        ],
      },
    ],
    clusters: [
      { name: 'details', type: 'EDS', protocol: 'http', lbPolicy: 'ROUND_ROBIN', connectTimeoutMs: 1000 },
    ],
    endpoints: [
      { clusterName: 'details', endpoints: [{ address: detailsAddress, port: 9080, health: 'HEALTHY' }] },
    ],
  })
}

describe('proxy image', () => {
  let network: StartedNetwork
  let details: StartedTestContainer
  let proxy: StartedTestContainer

  beforeAll(async () => {
    network = await new Network().start()
    details = await new GenericContainer(image('bookinfo-details'))
      .withNetwork(network)
      .withExposedPorts(9080)
      .withWaitStrategy(Wait.forHttp('/health', 9080).forStatusCode(200))
      .withStartupTimeout(60_000)
      .start()
    proxy = await new GenericContainer(image('proxy'))
      .withNetwork(network)
      .withCopyContentToContainer([
        {
          content: gatewayConfig(details.getIpAddress(network.getName())),
          target: '/etc/mesh-proxy/config.json',
          mode: 0o644,
        },
      ])
      .withCommand(['router', '--config', '/etc/mesh-proxy/config.json', '--access-log', '/tmp/access.log'])
      // Every port the image EXPOSEs: podman lists the unpublished ones in PortBindings, and
      // testcontainers would wait for them to be bound (testcontainers-node issue #1108).
      .withExposedPorts(8080, 15000, 15001, 15006, 15020, 15021)
      .withWaitStrategy(Wait.forHttp('/healthz/ready', 15021).forStatusCode(200))
      .withStartupTimeout(60_000)
      .start()
  })

  afterAll(async () => {
    await proxy?.stop()
    await details?.stop()
    await network?.stop()
  })

  it('routes a request through its gateway listener to the details container', async () => {
    const res = await fetch(url(proxy, 8080, '/details/0'))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: 0, author: 'William Shakespeare' })
    // The access log (JSON lines, here in a file) has the request and its answer.
    const log = await proxy.exec(['cat', '/tmp/access.log'])
    expect(log.exitCode, log.output).toBe(0)
    const entries = log.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { path?: string; response_code?: number })
      .filter((e) => e.path === '/details/0')
    expect(entries.map((e) => e.response_code)).toEqual([200])
  })

  it('answers 503 for a route whose only endpoint is gone', async () => {
    await details.stop()
    const res = await fetch(url(proxy, 8080, '/details/1'))
    expect(res.status).toBe(503)
  })

  it('runs mesh-proxy as uid 1337 (the uid capture excludes), not root', async () => {
    expect(await mainProcessUids(proxy)).toEqual([1337, 1337, 1337])
    const command = await mainProcessCommand(proxy)
    expect(command[0]).toMatch(/(^|\/)node$/)
    expect(command.some((arg) => arg.endsWith('mesh-proxy') || arg.endsWith('mesh-proxy.js'))).toBe(true)
    expect(command).toContain('--config')
  })

  it('has iptables with both backends for mesh-init', async () => {
    for (const bin of ['iptables-nft-restore', 'iptables-legacy-restore', 'iptables-save']) {
      const { exitCode, output } = await proxy.exec(['sh', '-c', `command -v ${bin}`])
      expect(exitCode, `${bin}: ${output}`).toBe(0)
    }
  })

  it('`mesh-init --dry-run` prints the capture rules', async () => {
    // As the injector runs it: as root (runAsUser 0), here in the running proxy container (without
    // NET_ADMIN, so it could not change the rules even if it tried).
    const { exitCode, stdout, stderr } = await proxy.exec(
      ['mesh-init', '--dry-run', '-p', '15001', '-z', '15006', '-u', '1337', '-g', '1337'],
      { user: '0' },
    )
    expect(exitCode, stderr).toBe(0)
    const out = stdout
    expect(out).toContain('*nat')
    for (const chain of ['MESH_INBOUND', 'MESH_IN_REDIRECT', 'MESH_OUTPUT', 'MESH_REDIRECT']) {
      expect(out).toContain(`:${chain} `)
    }
    expect(out).toMatch(/-A MESH_REDIRECT .*--to-ports 15001/)
    expect(out).toMatch(/-A MESH_IN_REDIRECT .*--to-ports 15006/)
    expect(out).toMatch(/--uid-owner 1337/)
    expect(out).toContain('COMMIT')
  })
})
