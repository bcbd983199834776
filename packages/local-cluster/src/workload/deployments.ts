// What the Deployment and ReplicaSet controllers do, reduced to the local cluster's needs: a
// pod-template-hash per template, pods named <deployment>-<hash>-<suffix>, replica counts. Pure.
import { createHash, randomBytes } from 'node:crypto'
import type { Deployment, NewPod } from '@minimesh/api/kube'

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'

function encode(bytes: Buffer, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i]! % ALPHABET.length]
  return out
}

/** A stable hash of the pod template (the `pod-template-hash` label). */
export function templateHash(d: Deployment): string {
  return encode(createHash('sha256').update(JSON.stringify(d.spec.template)).digest(), 10)
}

/** A random pod name suffix, as generateName makes (5 characters). */
export function nameSuffix(): string {
  return encode(randomBytes(5), 5)
}

/** The pod a Deployment's ReplicaSet would send to the API server: generateName set, name not yet. */
export function podFromTemplate(d: Deployment, hash: string): NewPod {
  const rs = `${d.metadata.name}-${hash}`
  const t = structuredClone(d.spec.template)
  const meta = t.metadata ?? {}
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs}-`,
      namespace: d.metadata.namespace ?? 'default',
      labels: { ...(meta.labels ?? {}), 'pod-template-hash': hash },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: rs,
          uid: createHash('sha256')
            .update(`${d.metadata.uid}/${hash}`)
            .digest('hex')
            .slice(0, 32)
            .replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'),
          controller: true,
          blockOwnerDeletion: true,
        } as never,
      ],
    },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      ...t.spec,
      serviceAccountName: t.spec.serviceAccountName ?? t.spec.serviceAccount ?? 'default',
    },
  }
}

/** The Deployment's status from its pods. */
export function deploymentStatus(
  d: Deployment,
  pods: readonly { hash?: string; ready: boolean }[],
  hash: string,
  failure?: string,
): Record<string, unknown> {
  const updated = pods.filter((p) => p.hash === hash)
  const ready = pods.filter((p) => p.ready).length
  const want = d.spec.replicas ?? 1
  const available = ready >= want
  return {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: pods.length,
    updatedReplicas: updated.length,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(ready < pods.length ? { unavailableReplicas: pods.length - ready } : {}),
    conditions: [
      {
        type: 'Available',
        status: available ? 'True' : 'False',
        reason: available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      },
      ...(failure
        ? [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: failure }]
        : []),
    ],
  }
}
