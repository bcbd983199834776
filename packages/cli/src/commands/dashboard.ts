// meshctl dashboard: the mesh dashboard (@minimesh/dashboard) on a local port, for the local
// cluster or a Kubernetes cluster (read through the API server), until Ctrl-C.
import { spawn } from 'node:child_process'
import { PROXY_STATUS_PORT } from '@minimesh/api/ports'
import { launchDashboard } from '@minimesh/dashboard'
import { commandOptions } from './options.ts'
import { type Command, UsageError } from './types.ts'

const OPTIONS = commandOptions(
  {
    local: { type: 'boolean', help: 'the local cluster (the default when one runs here)' },
    kube: {
      type: 'boolean',
      help: "the kubeconfig's cluster (meshd, the proxies and Prometheus reached through the API server's proxy)",
    },
    context: { type: 'string', arg: 'NAME', help: 'kubeconfig context (implies --kube)' },
    kubeconfig: { type: 'string', arg: 'FILE', help: 'kubeconfig (implies --kube)' },
    meshd: {
      type: 'string',
      arg: 'URL',
      help: "meshd's monitoring port directly (e.g. after kubectl port-forward)",
    },
    prometheus: {
      type: 'boolean',
      help:
        'metrics from Prometheus: the URL after it if one is given, else the addon (apps/addons/prometheus.yaml on ' +
        "Kubernetes; started here from Debian's prometheus on the local cluster, which is the default " +
        'there when it is installed)',
    },
    'prometheus-url': { type: 'string', arg: 'URL', help: 'metrics from the Prometheus at URL' },
    'no-prometheus': {
      type: 'boolean',
      help: `scrape every proxy's status port (${PROXY_STATUS_PORT}) directly`,
    },
    'zipkin-url': { type: 'string', arg: 'URL', help: 'a Zipkin UI: each edge links to its traces' },
    address: { type: 'string', default: '127.0.0.1', help: 'listen address' },
    port: { type: 'port', default: 20001, help: 'listen port (0: any free one)' },
    window: {
      type: 'integer',
      min: 1,
      arg: 'SECONDS',
      defaultText: '30',
      help: 'the window rates are computed over',
    },
    'no-open': { type: 'boolean', help: 'do not open a browser' },
  },
  `meshctl dashboard [--local | --kube [--context NAME] [--kubeconfig FILE]] [--meshd URL]
                  [--prometheus [URL] | --no-prometheus] [--zipkin-url URL]
                  [--address 127.0.0.1] [--port 20001] [--window 30] [--no-open]

Serves a live view of the mesh: the service graph (requests/s, success rate, p99, mTLS per edge),
each workload's golden metrics, every proxy's sync state and the configuration meshd rejected.`,
  { allowPositionals: true },
)

export const dashboard: Command = {
  name: 'dashboard',
  summary: 'open the mesh dashboard (service graph, metrics, proxy sync, rejected config)',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values, positionals } = OPTIONS.parse(args)
    // `--prometheus URL` reads as a flag and a positional.
    const promUrl = values['prometheus-url'] ?? (values.prometheus ? positionals[0] : undefined)
    if (positionals.length > (promUrl && !values['prometheus-url'] ? 1 : 0))
      throw new UsageError(`unexpected argument ${positionals.at(-1)}`)
    const d = await launchDashboard({
      target: values.local ? 'local' : values.kube || values.context || values.kubeconfig ? 'kube' : 'auto',
      ...(values.meshd ? { meshdUrl: values.meshd } : {}),
      ...(values.context ? { context: values.context } : {}),
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      prometheus: values['no-prometheus'] ? 'off' : (promUrl ?? (values.prometheus ? 'addon' : 'auto')),
      ...(values['zipkin-url'] ? { zipkinUrl: values['zipkin-url'] } : {}),
      host: values.address,
      port: values.port,
      ...(values.window !== undefined ? { windowSeconds: values.window } : {}),
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
