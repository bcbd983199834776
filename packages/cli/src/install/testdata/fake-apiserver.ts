// A FAKE Kubernetes API server for the install tests: no real cluster can run on this machine
// (no Docker), so this speaks just enough of the API over real HTTP on 127.0.0.1 for
// @kubernetes/client-node (HTTPS with its own throwaway CA, as kind's API server has): discovery, server-side apply (PATCH application/apply-patch+yaml),
// get, list (equality label selectors), delete. It is a stand-in, not a model of the API server:
// objects are stored as applied; CRDs are Established and Deployments rolled out at once, unless a
// Deployment is named in `stuck`, which gets a pod waiting on ErrImageNeverPull. `forbid` answers
// 403 with the RBAC wording. Every request is recorded. For the live-mesh tests: `onApply` sees
// each object as stored (a test writes it to a real meshd's config directory, standing in for
// meshd's watch), and `serviceProxy` answers the API server's service proxy (to a real meshd).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { KubeObject } from '@minimesh/api/kube'
import { generateCertificates } from '@minimesh/injector'

interface Kind {
  group: string
  version: string
  kind: string
  plural: string
  namespaced: boolean
}

/** Kinds of one v1 group whose plural is the kind in lower case with an s. */
function v1Kinds(group: string, kinds: readonly string[], namespaced: (kind: string) => boolean): Kind[] {
  return kinds.map((kind) => ({
    group,
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    namespaced: namespaced(kind),
  }))
}

const KINDS: Kind[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  ...v1Kinds('', ['Pod', 'Service', 'ServiceAccount', 'Secret', 'ConfigMap'], () => true),
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  ...v1Kinds(
    'rbac.authorization.k8s.io',
    ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'],
    (kind) => !kind.startsWith('Cluster'),
  ),
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  ...v1Kinds(
    'admissionregistration.k8s.io',
    ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'],
    () => false,
  ),
  ...v1Kinds('networking.istio.io', ['VirtualService', 'DestinationRule', 'Gateway'], () => true),
  ...v1Kinds('security.istio.io', ['PeerAuthentication', 'AuthorizationPolicy'], () => true),
  {
    group: 'policy.minimesh.dev',
    version: 'v1alpha1',
    kind: 'QuotaPolicy',
    plural: 'quotapolicies',
    namespaced: true,
  },
]

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  contentType?: string
  /** For writes: `<Kind> <ns>/<name>`. */
  target?: string
  /** For PATCH: the JSON body as sent. */
  body?: unknown
}

export interface FakeApiServer {
  url: string
  requests: RecordedRequest[]
  objects: Map<string, KubeObject>
  /** Stores an object as if someone else had made it. */
  seed(obj: KubeObject): void
  /** Answers 403 (RBAC wording) to this verb on this plural resource. */
  forbid(verb: 'patch' | 'get' | 'delete' | 'list', plural: string): void
  /** A kubeconfig YAML whose current context is `context` and points here. */
  kubeconfig(context?: string): string
  close(): Promise<void>
}

const key = (k: Kind, ns: string | undefined, name: string) => `${k.kind}/${k.namespaced ? ns : ''}/${name}`

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function status(code: number, reason: string, message: string, details?: object) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, details, code }
}

export interface FakeApiServerOptions {
  stuck?: string[]
  /** Called with each object as stored by an apply. */
  onApply?: (obj: KubeObject) => void
  /** Answers GET /api/v1/namespaces/NS/services/NAME:PORT/proxy/PATH (404 without it). */
  serviceProxy?: (
    namespace: string,
    service: string,
    port: number,
    path: string,
  ) => Promise<{ status: number; body: string }>
}

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const requests: RecordedRequest[] = []
  const objects = new Map<string, KubeObject>()
  const forbidden = new Set<string>()
  let resourceVersion = 1

  function decorate(obj: KubeObject, k: Kind): KubeObject {
    if (k.kind === 'CustomResourceDefinition') {
      return { ...obj, status: { conditions: [{ type: 'Established', status: 'True' }] } }
    }
    if (k.kind === 'Deployment') {
      const replicas = (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1
      const stuck = options.stuck?.includes(obj.metadata.name)
      const generation = (obj.metadata.generation as number | undefined) ?? 1
      return {
        ...obj,
        status: {
          observedGeneration: generation,
          replicas,
          updatedReplicas: replicas,
          availableReplicas: stuck ? 0 : replicas,
          readyReplicas: stuck ? 0 : replicas,
        },
      }
    }
    return obj
  }

  function stuckPod(dep: KubeObject): KubeObject {
    const spec = dep.spec as {
      selector?: { matchLabels?: Record<string, string> }
      template?: { spec?: { containers?: { name: string; image?: string }[] } }
    }
    const c = spec.template?.spec?.containers?.[0]
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${dep.metadata.name}-7d9f-x2x4q`,
        namespace: dep.metadata.namespace,
        labels: spec.selector?.matchLabels ?? {},
      },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: c?.name ?? 'app',
            image: c?.image,
            ready: false,
            state: {
              waiting: {
                reason: 'ErrImageNeverPull',
                message: `Container image "${c?.image}" is not present with pull policy of Never`,
              },
            },
          },
        ],
      },
    }
  }

  function discovery(group: string, version: string) {
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: KINDS.filter((k) => k.group === group && k.version === version).map((k) => ({
        name: k.plural,
        singularName: k.kind.toLowerCase(),
        namespaced: k.namespaced,
        kind: k.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      })),
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const method = req.method ?? 'GET'
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(method === 'PATCH' && body ? { body: JSON.parse(body) } : {}),
    }
    requests.push(recorded)
    const proxied = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/:]+):(\d+)\/proxy\/(.*)$/.exec(
      decodeURIComponent(url.pathname),
    )
    if (proxied && method === 'GET') {
      if (!options.serviceProxy) return send(res, 404, status(404, 'NotFound', 'no service proxy here'))
      const r = await options.serviceProxy(
        proxied[1]!,
        proxied[2]!,
        Number(proxied[3]),
        `/${proxied[4]}${url.search}`,
      )
      res.writeHead(r.status, { 'content-type': 'application/json' })
      return void res.end(r.body)
    }
    const parts = url.pathname.split('/').filter(Boolean)
    let group = ''
    let rest: string[]
    let version: string
    if (parts[0] === 'api') {
      version = parts[1] ?? ''
      rest = parts.slice(2)
    } else if (parts[0] === 'apis') {
      group = parts[1] ?? ''
      version = parts[2] ?? ''
      rest = parts.slice(3)
    } else return send(res, 404, status(404, 'NotFound', `the server could not find ${url.pathname}`))
    if (rest.length === 0) return send(res, 200, discovery(group, version))
    let ns: string | undefined
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1]
      rest = rest.slice(2)
    }
    const [plural, name] = rest
    const k = KINDS.find((x) => x.group === group && x.version === version && x.plural === plural)
    if (!k) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource`))
    const verb = method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : name ? 'get' : 'list'
    const resource = k.group ? `${k.plural}.${k.group}` : k.plural
    if (forbidden.has(`${verb} ${k.plural}`)) {
      const where = ns ? ` in the namespace "${ns}"` : ' at the cluster scope'
      return send(
        res,
        403,
        status(
          403,
          'Forbidden',
          `${resource}${name ? ` "${name}"` : ''} is forbidden: User "dev@example.com" cannot ${verb} resource "${k.plural}" in API group "${k.group}"${where}`,
          { name, group: k.group, kind: k.plural },
        ),
      )
    }
    if (verb === 'list') {
      const selector = url.searchParams.get('labelSelector')
      const pairs = selector ? selector.split(',').map((p) => p.split('=') as [string, string]) : []
      const items = [...objects.values()].filter(
        (o) =>
          o.kind === k.kind &&
          (!ns || o.metadata.namespace === ns) &&
          pairs.every(([lk, lv]) => o.metadata.labels?.[lk] === lv),
      )
      return send(res, 200, {
        kind: `${k.kind}List`,
        apiVersion: group ? `${group}/${version}` : version,
        items,
      })
    }
    const id = key(k, ns, name ?? '')
    recorded.target = `${k.kind} ${ns ? `${ns}/` : ''}${name}`
    const existing = objects.get(id)
    if ((verb === 'get' || verb === 'delete') && !existing)
      return send(
        res,
        404,
        status(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: k.plural }),
      )
    if (verb === 'get' && existing) return send(res, 200, decorate(existing, k))
    if (verb === 'delete') {
      objects.delete(id)
      if (k.kind === 'Namespace') {
        for (const [other, o] of objects) if (o.metadata.namespace === name) objects.delete(other)
      }
      return send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Success',
        details: { name, kind: k.plural },
      })
    }
    // PATCH: server-side apply only.
    if (req.headers['content-type'] !== 'application/apply-patch+yaml') {
      return send(
        res,
        415,
        status(415, 'UnsupportedMediaType', `the fake API server only does server-side apply`),
      )
    }
    const manager = url.searchParams.get('fieldManager')
    if (!manager)
      return send(
        res,
        400,
        status(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value'),
      )
    const applied = JSON.parse(body) as KubeObject
    const managers = new Set(
      ((existing?.metadata.managedFields ?? []) as { manager: string }[])
        .map((m) => m.manager)
        .concat(manager),
    )
    const oldGeneration = (existing?.metadata.generation as number | undefined) ?? 0
    const content = ({ status: _s, metadata: _m, ...rest }: KubeObject) => rest
    const sameAs = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
    const unchanged =
      existing !== undefined &&
      sameAs(content(applied), content(existing)) &&
      sameAs(applied.metadata.labels ?? {}, existing.metadata.labels ?? {}) &&
      sameAs(applied.metadata.annotations ?? {}, existing.metadata.annotations ?? {})
    if (unchanged) return send(res, 200, decorate(existing, k))
    const stored: KubeObject = {
      ...applied,
      ...(existing?.status !== undefined ? { status: existing.status } : {}),
      metadata: {
        ...applied.metadata,
        ...(k.namespaced ? { namespace: ns } : {}),
        uid: (existing?.metadata.uid as string | undefined) ?? `uid-${resourceVersion}`,
        resourceVersion: String(++resourceVersion),
        // As the API server: a change of spec (or of anything but metadata) is a new generation.
        generation:
          existing && sameAs(applied.spec ?? null, existing.spec ?? null) ? oldGeneration : oldGeneration + 1,
        managedFields: [...managers].map((m) => ({ manager: m, operation: 'Apply' })),
      },
    }
    objects.set(id, stored)
    options.onApply?.(stored)
    if (k.kind === 'Deployment' && options.stuck?.includes(stored.metadata.name)) {
      const pod = stuckPod(stored)
      objects.set(key(KINDS[1]!, ns, pod.metadata.name), pod)
    }
    return send(res, existing ? 200 : 201, decorate(stored, k))
  }

  const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })
  const server = createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: Error) =>
        send(res, 500, status(500, 'InternalError', err.message)),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    requests,
    objects,
    seed(obj) {
      const k = KINDS.find((x) => x.kind === obj.kind)
      if (!k) throw new Error(`fake API server: unknown kind ${obj.kind}`)
      objects.set(key(k, obj.metadata.namespace, obj.metadata.name), obj)
    },
    forbid(verb, plural) {
      forbidden.add(`${verb} ${plural}`)
    },
    kubeconfig(context = 'fake') {
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: fake\n  cluster:\n    server: ${url}\n    certificate-authority-data: ${Buffer.from(certs.caCert).toString('base64')}`,
        'users:',
        '- name: dev\n  user:\n    token: not-a-secret',
        'contexts:',
        `- name: ${context}\n  context:\n    cluster: fake\n    user: dev`,
        `current-context: ${context}`,
        '',
      ].join('\n')
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
