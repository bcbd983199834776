// meshctl install: applies the install manifests (install/manifests.ts) to the cluster of a
// kubeconfig context with server-side apply (field manager `meshctl`), then waits, showing
// progress, for meshd's and the gateway's rollouts. Safe to run again: it converges, and keeps
// the webhook certificate already in the cluster while it is valid.
import type { KubeObject } from '@minimesh/api/kube'
import { serviceDnsNames } from '@minimesh/injector'
import { installObjects } from '../install/apply.ts'
import { reusableCertificates, withCertChecksum, withGatewayNodePort } from '../install/customize.ts'
import { Kube } from '../install/kube.ts'
import { installManifests, MESHD, WEBHOOK_SECRET } from '../install/manifests.ts'
import { TRACING_FLAGS, tracingFromFlags } from '../install/tracing.ts'
import { commandOptions, IMAGE_OPTIONS, KUBECONFIG_OPTIONS, timeoutOption } from './options.ts'
import { type Command, UsageError } from './types.ts'
import { cliVersion } from './version.ts'

const NAMESPACE = 'minimesh-system'

const OPTIONS = commandOptions(
  {
    ...KUBECONFIG_OPTIONS,
    ...IMAGE_OPTIONS,
    'gateway-node-port': {
      type: 'port',
      min: 1,
      help:
        "give the gateway Service's HTTP port this node port (kind/up.sh: 30080, which kind/cluster.yaml " +
        'publishes on localhost:8080)',
    },
    timeout: timeoutOption(300_000, 'for each wait (CRDs, each rollout); e.g. 300s, 5m'),
    'no-wait': { type: 'boolean', help: 'do not wait for the rollouts' },
    'take-over-crds': {
      type: 'boolean',
      help:
        "apply minimesh's CRDs over CRDs of the same name that another tool made (Istio's): their " +
        'schema is replaced, their resources stay',
    },
    ...TRACING_FLAGS,
  },
  `meshctl install [--context NAME] [--kubeconfig FILE] [--hub minimesh] [--tag VERSION]
                [--gateway-node-port PORT] [--timeout 300s] [--no-wait] [--take-over-crds]
                [--trace-collector URL [--trace-format zipkin|otlp] [--trace-sampling PCT]]

Installs minimesh into a Kubernetes cluster: its CRDs, the namespace ${NAMESPACE}, meshd with
least-privilege RBAC and a webhook certificate, the injection and validation webhooks, and the
ingress gateway. Then waits for meshd and the gateway to roll out.`,
)

export const install: Command = {
  name: 'install',
  summary: 'install minimesh into a Kubernetes cluster (CRDs, meshd, webhooks, ingress gateway)',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values } = OPTIONS.parse(args)
    const timeoutMs = values.timeout
    const nodePort = values['gateway-node-port']
    const kube = Kube.connect({
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context ? { context: values.context } : {}),
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
      ...(values.hub ? { hub: values.hub } : {}),
      ...(values.tag ? { tag: values.tag } : {}),
      ...(kept ? { certificates: kept } : {}),
    })) as unknown as KubeObject[]
    const servingCert = objects.find((o) => o.kind === 'Secret' && o.metadata.name === WEBHOOK_SECRET)
      ?.data as Record<string, string> | undefined
    objects = withCertChecksum(objects, servingCert?.['tls.crt'] ?? '', MESHD)
    if (nodePort !== undefined) objects = withGatewayNodePort(objects, nodePort)

    await installObjects(kube, objects, {
      progress: (line) => io.out(`${line}\n`),
      timeoutMs,
      takeOverCrds: values['take-over-crds'],
      wait: !values['no-wait'],
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
