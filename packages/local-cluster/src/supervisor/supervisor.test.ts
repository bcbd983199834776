// The supervisor as `meshctl local` uses it: started detached, driven over its socket by separate
// clients, killed with SIGKILL (a crash), started again (it cleans up what the crashed one left),
// and stopped with nothing left on the host.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Pod } from '@minimesh/api/kube'
import { afterAll, describe, expect, it } from 'vitest'
import {
  canRunNetns,
  hostSnapshot,
  iptablesChanges,
  leftovers,
  processesMentioning,
} from '../testdata/host-snapshot.ts'
import { ECHO_SERVER, standInImages } from '../testdata/stand-ins.ts'
import { LocalClusterClient } from './client.ts'
import { startSupervisor, stopSupervisor, supervisorStatus } from './control.ts'

const skip = canRunNetns()
const BRIDGE = 'mmt4'

const objects = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sup' } },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'echo', namespace: 'sup' },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'echo' },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'echo', namespace: 'sup' },
    spec: {
      selector: { matchLabels: { app: 'echo' } },
      template: {
        metadata: { labels: { app: 'echo' } },
        spec: {
          containers: [
            {
              name: 'echo',
              image: 'test/echo',
              // Ready once it listens: without a probe a pod is ready when its process starts,
              // and on a loaded machine the first request came before the server listened.
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  },
]

describe.skipIf(skip)(skip ? `supervisor (skipped: ${skip})` : 'supervisor', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'mm-sup-'))
  const before = hostSnapshot()
  const cluster = {
    bridge: BRIDGE,
    podCidr: '198.18.204.0/24',
    serviceCidr: '198.19.204.0/24',
    images: standInImages(),
    maxGraceSeconds: 2,
  }

  afterAll(async () => {
    await stopSupervisor(runDir).catch(() => {})
    rmSync(runDir, { recursive: true, force: true })
  })

  it('runs in the background and answers separate clients', async () => {
    await startSupervisor({ runDir, cluster })
    expect(supervisorStatus(runDir).running).toBe(true)
    const client = new LocalClusterClient(runDir)
    expect((await client.apply(objects)).map((r) => r.action)).toEqual(['created', 'created', 'created'])
    await new LocalClusterClient(runDir).waitReady({ namespace: 'sup', timeoutMs: 15_000 })
    const pods = (await client.get('pods', 'sup')) as Pod[]
    expect(pods).toHaveLength(1)
    const url = await client.gatewayUrl('echo', 'sup')
    expect(url).toMatch(/^http:\/\/198\.19\.204\.\d+$/)
    const body = (await (await fetch(`${url}/`)).json()) as { hostname: string }
    expect(body.hostname).toBe(pods[0]!.metadata.name)
    expect(await client.logs('sup', pods[0]!.metadata.name)).toContain('echo-server listening')
    const r = await client.exec('sup', pods[0]!.metadata.name, [
      'sh',
      '-c',
      'cat /etc/hosts | grep -c echo.sup.svc.cluster.local',
    ])
    expect(r.stdout.trim()).toBe('1')
    await expect(
      client.apply([{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x', namespace: 'sup' } }]),
    ).rejects.toMatchObject({ code: 'MESH_ERR_LOCAL_KIND' })
    await expect(startSupervisor({ runDir, cluster })).rejects.toMatchObject({
      code: 'MESH_ERR_LOCAL_ALREADY_RUNNING',
    })
  }, 40_000)

  it('after a crash, up removes what the dead supervisor left and starts clean', async () => {
    const pid = supervisorStatus(runDir).pid!
    process.kill(pid, 'SIGKILL')
    while (supervisorStatus(runDir).running) await new Promise((r) => setTimeout(r, 20))
    expect(supervisorStatus(runDir).leftovers).toBe(true)
    expect(processesMentioning(ECHO_SERVER).length).toBeGreaterThan(0) // the orphaned pod still runs
    await expect(new LocalClusterClient(runDir).get('pods')).rejects.toMatchObject({
      code: 'MESH_ERR_LOCAL_NOT_RUNNING',
    })
    await startSupervisor({ runDir, cluster })
    expect(processesMentioning(ECHO_SERVER)).toEqual([])
    expect(await new LocalClusterClient(runDir).get('pods', 'sup')).toEqual([])
  }, 40_000)

  it('down stops it and leaves nothing behind', async () => {
    await new LocalClusterClient(runDir).apply(objects)
    await new LocalClusterClient(runDir).waitReady({ namespace: 'sup', timeoutMs: 15_000 })
    const removed = await stopSupervisor(runDir)
    expect(removed.join(', ')).toMatch(new RegExp(`bridge ${BRIDGE}`))
    expect(supervisorStatus(runDir)).toEqual({ running: false, leftovers: false })
    const after = hostSnapshot()
    expect(leftovers(before, after, [BRIDGE, BRIDGE.toUpperCase()])).toEqual([])
    expect(iptablesChanges(before, after, 'MMT4')).toEqual([])
    expect(processesMentioning(ECHO_SERVER)).toEqual([])
    expect(await stopSupervisor(runDir)).toEqual([])
  }, 40_000)
})
