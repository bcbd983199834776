// The kubelet's and controllers' pure parts: env (downward API, $(VAR), service links), volume
// paths, Endpoints and DNAT rules from pods, pod templates.

import type { Deployment, Pod, Service } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { podFromTemplate, templateHash } from './deployments.ts'
import { endpointsFor, portRules } from './endpoints.ts'
import { containerEnv, expandVars, mapMountPaths } from './env.ts'

const pod = (name: string, labels: Record<string, string>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels },
  spec: {
    serviceAccountName: 'bookinfo-reviews',
    containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 9080 }] }],
  },
  status: { podIP: '198.18.0.9' },
})
const svc: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'reviews', namespace: 'default' },
  spec: {
    selector: { app: 'reviews' },
    clusterIP: '198.19.0.4',
    ports: [{ name: 'http', port: 9080, targetPort: 'http' }],
  },
}

describe('env', () => {
  it('fills the downward API, expands $(VAR), adds service links', () => {
    const p = pod('reviews-v1-x', { app: 'reviews', version: 'v1' })
    const env = containerEnv(
      p,
      {
        name: 'app',
        env: [
          { name: 'A', value: 'a' },
          { name: 'B', value: '$(A)-$(NOPE)-$$(A)' },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'V', valueFrom: { fieldRef: { fieldPath: "metadata.labels['version']" } } },
          { name: 'S', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } },
        ],
      },
      {
        secret: (_ns, n) => (n === 'creds' ? { user: 'jason' } : undefined),
        configMap: () => undefined,
        services: [svc],
        hostIp: '198.18.0.1',
      },
      1337,
    )
    expect(env).toMatchObject({
      A: 'a',
      B: 'a-$(NOPE)-$(A)',
      IP: '198.18.0.9',
      SA: 'bookinfo-reviews',
      V: 'v1',
      S: 'jason',
      HOSTNAME: 'reviews-v1-x',
      HOME: '/',
      REVIEWS_SERVICE_HOST: '198.19.0.4',
      REVIEWS_SERVICE_PORT: '9080',
      REVIEWS_SERVICE_PORT_HTTP: '9080',
      REVIEWS_PORT_9080_TCP_ADDR: '198.19.0.4',
    })
    expect(expandVars('x$(Y)', { Y: 'y' })).toBe('xy')
  })
  it('maps volume mount paths to their host directories, whole path components only', () => {
    const mounts = [{ mountPath: '/etc/certs', hostPath: '/run/x/volumes/certs' }]
    expect(mapMountPaths('--cert=/etc/certs/tls.crt', mounts)).toBe('--cert=/run/x/volumes/certs/tls.crt')
    expect(mapMountPaths('/etc/certs', mounts)).toBe('/run/x/volumes/certs')
    expect(mapMountPaths('/etc/certsmore/a', mounts)).toBe('/etc/certsmore/a')
  })
})

describe('endpoints', () => {
  it('lists ready and not-ready pods of the selector with resolved target ports, and DNATs only to ready ones', () => {
    const views = [
      { pod: pod('reviews-v1-a', { app: 'reviews' }), ip: '198.18.0.7', ready: true, terminating: false },
      { pod: pod('reviews-v2-b', { app: 'reviews' }), ip: '198.18.0.8', ready: false, terminating: false },
      { pod: pod('reviews-v3-c', { app: 'reviews' }), ip: '198.18.0.9', ready: true, terminating: true },
      { pod: pod('ratings-v1-d', { app: 'ratings' }), ip: '198.18.0.10', ready: true, terminating: false },
    ]
    const ep = endpointsFor(svc, views) as {
      subsets: {
        addresses: { ip: string; targetRef: { name: string } }[]
        notReadyAddresses: { ip: string }[]
        ports: unknown[]
      }[]
    }
    expect(ep.subsets).toHaveLength(1)
    expect(ep.subsets[0]!.addresses.map((a) => a.targetRef.name)).toEqual(['reviews-v1-a'])
    expect(ep.subsets[0]!.notReadyAddresses.map((a) => a.ip)).toEqual(['198.18.0.8'])
    expect(ep.subsets[0]!.ports).toEqual([{ name: 'http', port: 9080, protocol: 'TCP' }])
    expect(portRules(svc, ep as never)).toEqual([
      {
        id: 'default/reviews:http',
        clusterIp: '198.19.0.4',
        port: 9080,
        protocol: 'tcp',
        endpoints: [{ ip: '198.18.0.7', port: 9080 }],
      },
    ])
    expect(endpointsFor({ ...svc, spec: { ...svc.spec, selector: undefined } }, views)).toBeUndefined()
  })
})

describe('deployments', () => {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'reviews-v1', namespace: 'default', uid: 'u1' },
    spec: {
      selector: { matchLabels: { app: 'reviews' } },
      template: { metadata: { labels: { app: 'reviews' } }, spec: { containers: [{ name: 'app' }] } },
    },
  }
  it('sends pods as the ReplicaSet would: generateName, pod-template-hash, owner reference', () => {
    const hash = templateHash(d)
    expect(hash).toMatch(/^[a-z0-9]{10}$/)
    expect(templateHash({ ...d, spec: { ...d.spec, replicas: 5 } })).toBe(hash)
    const p = podFromTemplate(d, hash)
    expect(p.metadata.name).toBeUndefined()
    expect(p.metadata.generateName).toBe(`reviews-v1-${hash}-`)
    expect(p.metadata.labels).toEqual({ app: 'reviews', 'pod-template-hash': hash })
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'ReplicaSet',
      name: `reviews-v1-${hash}`,
      controller: true,
    })
    expect(p.spec.serviceAccountName).toBe('default')
  })
})
