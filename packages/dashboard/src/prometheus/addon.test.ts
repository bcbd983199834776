// The Prometheus addon's configuration: valid for the real Prometheus (promtool, from Debian's
// prometheus package) as shipped for Kubernetes and as rewritten for the local cluster, and the
// local cluster's targets shaped as kubernetes_sd would discover them.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { jobTargets, localConfig, readAddonConfig } from './addon.ts'

const promtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
const dir = mkdtempSync(join(tmpdir(), 'addon-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the Prometheus addon', () => {
  const addon = readAddonConfig()

  it('scrapes the proxies by container port name and meshd by its Service port', () => {
    expect(addon.scrape_configs.map((j) => [j.job_name, j.metrics_path])).toEqual([
      ['minimesh-proxies', '/stats/prometheus'],
      ['minimesh-meshd', '/metrics'],
    ])
  })

  it.skipIf(!promtool)(
    'is a valid Prometheus configuration, for Kubernetes and for the local cluster (promtool)',
    () => {
      // Debian builds Prometheus without Kubernetes discovery: there, promtool's only complaint about
      // the Kubernetes config may be that field (everything else in it is checked).
      const k8s = join(dir, 'k8s.yml')
      writeFileSync(k8s, stringify(addon))
      let complaints: string[] = []
      try {
        execFileSync('promtool', ['check', 'config', k8s], { stdio: 'pipe' })
      } catch (err) {
        complaints = String((err as { stderr?: Buffer }).stderr ?? err)
          .split('\n')
          .filter((l) => /^\s*line \d+:/.test(l))
          .filter((l) => !/field kubernetes_sd_configs not found/.test(l))
        if (!/kubernetes_sd_configs not found/.test(String((err as { stderr?: Buffer }).stderr))) throw err
      }
      expect(complaints).toEqual([])
      const local = join(dir, 'local.yml')
      const cfg = localConfig(addon, join(dir, 'targets'))
      expect(JSON.stringify(cfg)).not.toContain('kubernetes_sd_configs')
      writeFileSync(local, stringify(cfg))
      execFileSync('promtool', ['check', 'config', local], { stdio: 'pipe' })
    },
  )

  it('discovers local pods and Endpoints as kubernetes_sd would', () => {
    const jobs = jobTargets(
      addon,
      [
        {
          metadata: { name: 'reviews-v2-1', namespace: 'default', labels: { app: 'reviews', version: 'v2' } },
          spec: {
            containers: [
              { name: 'reviews', ports: [{ containerPort: 9080 }] },
              { name: 'mesh-proxy', ports: [{ name: 'mesh-metrics', containerPort: 15020 }] },
            ],
          },
          status: { podIP: '198.18.0.7', phase: 'Running' },
        },
      ],
      [
        {
          metadata: { name: 'meshd', namespace: 'minimesh-system' },
          subsets: [{ addresses: [{ ip: '198.18.0.1' }], ports: [{ name: 'http-monitoring', port: 15014 }] }],
        },
        {
          metadata: { name: 'meshd', namespace: 'elsewhere' },
          subsets: [{ addresses: [{ ip: '198.18.0.9' }], ports: [{ name: 'http-monitoring', port: 15014 }] }],
        },
      ],
    )
    const proxies = jobs.get('minimesh-proxies')!
    expect(proxies.map((g) => g.targets[0])).toEqual(['198.18.0.7:9080', '198.18.0.7:15020'])
    expect(proxies[1]!.labels).toMatchObject({
      __meta_kubernetes_pod_container_name: 'mesh-proxy',
      __meta_kubernetes_pod_container_port_name: 'mesh-metrics',
      __meta_kubernetes_pod_label_app: 'reviews',
      __meta_kubernetes_namespace: 'default',
    })
    // A native sidecar (the proxy among the init containers) is discovered as Prometheus does.
    const native = jobTargets(
      addon,
      [
        {
          metadata: { name: 'reviews-v1-1', namespace: 'default', labels: { app: 'reviews' } },
          spec: {
            initContainers: [
              { name: 'mesh-init' },
              { name: 'mesh-proxy', ports: [{ name: 'mesh-metrics', containerPort: 15020 }] },
            ],
            containers: [{ name: 'reviews', ports: [{ containerPort: 9080 }] }],
          },
          status: { podIP: '198.18.0.8', phase: 'Running' },
        },
      ],
      [],
    ).get('minimesh-proxies')!
    expect(native.map((g) => g.targets[0])).toEqual(['198.18.0.8:9080', '198.18.0.8:15020'])
    expect(native[1]!.labels).toMatchObject({
      __meta_kubernetes_pod_container_name: 'mesh-proxy',
      __meta_kubernetes_pod_container_init: 'true',
    })
    // The job's namespaces list is honoured.
    expect(jobs.get('minimesh-meshd')!.map((g) => g.targets[0])).toEqual(['198.18.0.1:15014'])
  })
})
