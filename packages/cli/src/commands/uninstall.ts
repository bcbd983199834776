// meshctl uninstall: deletes what `meshctl install` made, webhook configurations first (so no
// pod creation waits on a meshd that is going away), then meshd, the gateway, RBAC and the
// namespace. The CRDs, and with them every VirtualService, DestinationRule, Gateway and
// QuotaPolicy in the cluster, are deleted only with --purge, and only if minimesh made them.
import type { KubeObject } from '@minimesh/api/kube'
import { uninstallObjects } from '../install/apply.ts'
import { Kube } from '../install/kube.ts'
import { installManifests } from '../install/manifests.ts'
import { commandOptions, KUBECONFIG_OPTIONS, timeoutOption } from './options.ts'
import type { Command } from './types.ts'

const OPTIONS = commandOptions(
  {
    ...KUBECONFIG_OPTIONS,
    purge: {
      type: 'boolean',
      help: "also delete minimesh's CRDs and so every routing resource of those kinds",
    },
    timeout: timeoutOption(300_000, 'for each wait'),
  },
  `meshctl uninstall [--context NAME] [--kubeconfig FILE] [--purge] [--timeout 300s]

Removes minimesh from a Kubernetes cluster. Pods that already have sidecars keep them until they
are recreated; remove the namespace label minimesh-injection first if you want them back without.`,
)

/** Names only matter for deletion: no certificate needs generating. */
const NO_CERTIFICATES = { caCert: '', caKey: '', cert: '', key: '' }

export const uninstall: Command = {
  name: 'uninstall',
  summary: 'remove minimesh from a Kubernetes cluster (--purge: and its CRDs)',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values } = OPTIONS.parse(args)
    const kube = Kube.connect({
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context ? { context: values.context } : {}),
    })
    io.out(`removing minimesh from context "${kube.cluster.context}" (${kube.cluster.server})\n`)
    const objects = (await installManifests({ certificates: NO_CERTIFICATES })) as unknown as KubeObject[]
    await uninstallObjects(kube, objects, {
      progress: (line) => io.out(`${line}\n`),
      purge: values.purge,
      timeoutMs: values.timeout,
    })
    io.out('minimesh is removed\n')
    return 0
  },
}
