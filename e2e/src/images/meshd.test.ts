// The meshd image, started with testcontainers on a configuration directory (Bookinfo's Services,
// Pods and Endpoints, its destination rules and all-v1 routing, as files): it becomes ready, reads
// that configuration, serves discovery, and runs as uid 1000, not root.
import { createConnection } from 'node:net'
import { fileURLToPath } from 'node:url'
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, mainProcessCommand, mainProcessUids, url } from './images.ts'

const BOOKINFO = fileURLToPath(
  new URL('../../../packages/control-plane/src/testdata/bookinfo/', import.meta.url),
)
const CONFIG = ['platform.yaml', 'destination-rule-all.yaml', 'virtual-service-all-v1.yaml']

describe('meshd image', () => {
  let meshd: StartedTestContainer

  beforeAll(async () => {
    meshd = await new GenericContainer(image('meshd'))
      .withCopyFilesToContainer(
        CONFIG.map((f) => ({ source: BOOKINFO + f, target: `/etc/meshd/${f}`, mode: 0o644 })),
      )
      .withCommand(['--config-dir', '/etc/meshd'])
      // Every port the image EXPOSEs: podman lists the unpublished ones in PortBindings, and
      // testcontainers would wait for them to be bound (testcontainers-node issue #1108).
      .withExposedPorts(15010, 15012, 15014, 15017)
      .withWaitStrategy(Wait.forHttp('/healthz/ready', 15014).forStatusCode(200))
      .withStartupTimeout(90_000)
      .start()
  })

  afterAll(async () => {
    await meshd?.stop()
  })

  it('is ready', async () => {
    const res = await fetch(url(meshd, 15014, '/healthz/ready'))
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('ok\n')
  })

  it('has read the configuration directory', async () => {
    const res = await fetch(url(meshd, 15014, '/debug/registryz'))
    expect(res.status).toBe(200)
    const text = await res.text()
    for (const service of ['productpage', 'details', 'reviews', 'ratings']) {
      expect(text).toContain(`${service}.default.svc.cluster.local`)
    }
  })

  it('accepts discovery connections on 15010', async () => {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: meshd.getHost(), port: meshd.getMappedPort(15010) })
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    expect(connected).toBe(true)
  })

  it('runs meshd as uid 1000, not root', async () => {
    expect(await mainProcessUids(meshd)).toEqual([1000, 1000, 1000])
    const command = await mainProcessCommand(meshd)
    expect(command[0]).toMatch(/(^|\/)node$/)
    expect(command.some((arg) => arg.endsWith('/meshd') || arg.endsWith('meshd.js'))).toBe(true)
  })
})
