// meshctl dashboard: the mesh dashboard (@minimesh/dashboard) on a local port, for the local
// cluster or a Kubernetes cluster (read through the API server), until Ctrl-C.
import { spawn } from 'node:child_process'
import { parseArgs } from 'node:util'
import { PROXY_STATUS_PORT } from '@minimesh/api/ports'
import { launchDashboard } from '@minimesh/dashboard'
import { type Command, UsageError } from './types.ts'

const USAGE = `meshctl dashboard [--local | --kube [--context NAME] [--kubeconfig FILE]] [--meshd URL]
                  [--prometheus [URL] | --no-prometheus] [--zipkin-url URL]
                  [--address 127.0.0.1] [--port 20001] [--window 30] [--no-open]

Serves a live view of the mesh: the service graph (requests/s, success rate, p99, mTLS per edge),
each workload's golden metrics, every proxy's sync state and the configuration meshd rejected.
  --local / --kube   the local cluster (the default when one runs here) or the kubeconfig's cluster
                     (meshd, the proxies and Prometheus reached through the API server's proxy)
  --meshd URL        meshd's monitoring port directly (e.g. after kubectl port-forward)
  --prometheus [URL] metrics from Prometheus: that URL, else the addon (apps/addons/prometheus.yaml
                     on Kubernetes; started here from Debian's prometheus on the local cluster,
                     which is the default there when it is installed)
  --no-prometheus    scrape every proxy's status port (${PROXY_STATUS_PORT}) directly
  --zipkin-url URL   a Zipkin UI: each edge links to its traces`

export const dashboard: Command = {
  name: 'dashboard',
  summary: 'open the mesh dashboard (service graph, metrics, proxy sync, rejected config)',
  usage: USAGE,
  async run(args, io) {
    let values: Record<string, string | boolean | undefined>
    let positionals: string[]
    try {
      ;({ values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          local: { type: 'boolean' },
          kube: { type: 'boolean' },
          context: { type: 'string' },
          kubeconfig: { type: 'string' },
          meshd: { type: 'string' },
          prometheus: { type: 'boolean' },
          'prometheus-url': { type: 'string' },
          'no-prometheus': { type: 'boolean' },
          'zipkin-url': { type: 'string' },
          address: { type: 'string' },
          port: { type: 'string' },
          window: { type: 'string' },
          'no-open': { type: 'boolean' },
        },
      }))
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    // `--prometheus URL` reads as a flag and a positional.
    const promUrl =
      (values['prometheus-url'] as string | undefined) ?? (values.prometheus ? positionals[0] : undefined)
    if (positionals.length > (promUrl && !values['prometheus-url'] ? 1 : 0))
      throw new UsageError(`unexpected argument ${positionals.at(-1)}`)
    const port = values.port === undefined ? 20001 : Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new UsageError(`--port: not a port: ${values.port}`)
    const d = await launchDashboard({
      target: values.local ? 'local' : values.kube || values.context || values.kubeconfig ? 'kube' : 'auto',
      ...(values.meshd ? { meshdUrl: values.meshd as string } : {}),
      ...(values.context ? { context: values.context as string } : {}),
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig as string } : {}),
      prometheus: values['no-prometheus'] ? 'off' : (promUrl ?? (values.prometheus ? 'addon' : 'auto')),
      ...(values['zipkin-url'] ? { zipkinUrl: values['zipkin-url'] as string } : {}),
      host: (values.address as string | undefined) ?? '127.0.0.1',
      port,
      ...(values.window ? { windowSeconds: Number(values.window) } : {}),
      log: (line) => io.out(`${line}\n`),
    })
    io.out(
      `dashboard: ${d.url} (${d.endpoints.describe}; metrics from ${d.endpoints.prometheus ?? 'the proxies'}); Ctrl-C to stop\n`,
    )
    if (!values['no-open'] && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
      const opener = process.platform === 'darwin' ? 'open' : 'xdg-open'
      spawn(opener, [d.url], { stdio: 'ignore', detached: true })
        .on('error', () => {})
        .unref()
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await d.close()
    return 0
  },
}
