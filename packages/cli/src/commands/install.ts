// meshctl install: applies the install manifests (install/manifests.ts) to the cluster of a
// kubeconfig context with server-side apply (field manager `meshctl`), then waits, showing
// progress, for meshd's and the gateway's rollouts. Safe to run again: it converges, and keeps
// the webhook certificate already in the cluster while it is valid.
import { parseArgs } from 'node:util'
import type { KubeObject } from '@minimesh/api/kube'
import { serviceDnsNames } from '@minimesh/injector'
import { installObjects } from '../install/apply.ts'
import { reusableCertificates, withCertChecksum, withGatewayNodePort } from '../install/customize.ts'
import { Kube } from '../install/kube.ts'
import { installManifests, MESHD, WEBHOOK_SECRET } from '../install/manifests.ts'
import { TRACING_FLAGS, TRACING_FLAGS_USAGE, tracingFromFlags } from '../install/tracing.ts'
import { type Command, UsageError } from './types.ts'
import { cliVersion } from './version.ts'

const NAMESPACE = 'minimesh-system'

const USAGE = `meshctl install [--context NAME] [--kubeconfig FILE] [--hub minimesh] [--tag VERSION]
                [--gateway-node-port PORT] [--timeout 300s] [--no-wait] [--take-over-crds]
                [--trace-collector URL [--trace-format zipkin|otlp] [--trace-sampling PCT]]

Installs minimesh into a Kubernetes cluster: its CRDs, the namespace ${NAMESPACE}, meshd with
least-privilege RBAC and a webhook certificate, the injection and validation webhooks, and the
ingress gateway. Then waits for meshd and the gateway to roll out.
  --gateway-node-port  give the gateway Service's HTTP port this node port (kind/up.sh: 30080,
                       which kind/cluster.yaml publishes on localhost:8080)
  --take-over-crds     apply minimesh's CRDs over CRDs of the same name that another tool made
                       (Istio's): their schema is replaced, their resources stay
  --timeout            for each wait (CRDs, each rollout); e.g. 300s, 5m
${TRACING_FLAGS_USAGE}`

/** `300s`, `5m`, `90` (seconds) → milliseconds. */
export function parseTimeout(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (!m) throw new UsageError(`--timeout ${text}: use a duration like 300s or 5m`)
  const n = Number(m[1])
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000
}

export function parsePort(text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`${flag} ${text}: not a port number`)
  return n
}

export const install: Command = {
  name: 'install',
  summary: 'install minimesh into a Kubernetes cluster (CRDs, meshd, webhooks, ingress gateway)',
  usage: USAGE,
  async run(args, io) {
    let values: Record<string, string | boolean | undefined>
    try {
      values = parseArgs({
        args,
        options: {
          context: { type: 'string' },
          kubeconfig: { type: 'string' },
          hub: { type: 'string' },
          tag: { type: 'string' },
          'gateway-node-port': { type: 'string' },
          timeout: { type: 'string' },
          'no-wait': { type: 'boolean' },
          'take-over-crds': { type: 'boolean' },
          ...TRACING_FLAGS,
        },
      }).values
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const timeoutMs = parseTimeout((values.timeout as string | undefined) ?? '300s')
    const nodePort = values['gateway-node-port']
      ? parsePort(values['gateway-node-port'] as string, '--gateway-node-port')
      : undefined
    const kube = Kube.connect({
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig as string } : {}),
      ...(values.context ? { context: values.context as string } : {}),
    })
    const { context, server } = kube.cluster
    io.out(`installing minimesh ${cliVersion()} into context "${context}" (${server})\n`)

    const secret = await kube.read({
      apiVersion: 'v1',
      kind: 'Secret',
      name: WEBHOOK_SECRET,
      namespace: NAMESPACE,
    })
    const kept = reusableCertificates(secret, serviceDnsNames(MESHD, NAMESPACE)[2]!)
    io.out(
      kept
        ? 'keeping the webhook certificate already in the cluster\n'
        : 'generated a webhook CA and serving certificate\n',
    )
    const tracing = tracingFromFlags(values)
    if (typeof tracing === 'string') throw new UsageError(tracing)
    let objects = (await installManifests({
      namespace: NAMESPACE,
      ...(tracing ? { tracing } : {}),
      ...(values.hub ? { hub: values.hub as string } : {}),
      ...(values.tag ? { tag: values.tag as string } : {}),
      ...(kept ? { certificates: kept } : {}),
    })) as unknown as KubeObject[]
    const servingCert = objects.find((o) => o.kind === 'Secret' && o.metadata.name === WEBHOOK_SECRET)
      ?.data as Record<string, string> | undefined
    objects = withCertChecksum(objects, servingCert?.['tls.crt'] ?? '', MESHD)
    if (nodePort !== undefined) objects = withGatewayNodePort(objects, nodePort)

    await installObjects(kube, objects, {
      progress: (line) => io.out(`${line}\n`),
      timeoutMs,
      takeOverCrds: values['take-over-crds'] === true,
      wait: values['no-wait'] !== true,
      context,
    })
    io.out(
      `\nminimesh is installed${values['no-wait'] ? ' (not waiting for the rollouts)' : ''}. ` +
        'Turn on sidecar injection for a namespace with:\n' +
        `  kubectl --context ${context} label namespace default minimesh-injection=enabled\n`,
    )
    return 0
  },
}
