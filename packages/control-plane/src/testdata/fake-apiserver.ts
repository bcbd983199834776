// A FAKE Kubernetes API server for meshd's unit tests (a real one runs only in the Kubernetes e2e):
// real HTTP on 127.0.0.1 speaking just enough for @kubernetes/client-node's informers and meshd's
// status writes. Lists and watches every collection meshd reads (the ones it was not given are
// empty), streams ADDED/MODIFIED/DELETED to open watches, and takes a JSON patch of `/status` on
// a custom resource as the status subresource does: status replaced, resourceVersion bumped,
// generation kept, a MODIFIED event sent. Every write is recorded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { KubeConfig } from '@kubernetes/client-node'

type Obj = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; [k: string]: unknown }
  [k: string]: unknown
}

export interface RecordedWrite {
  method: string
  path: string
  contentType?: string
  body: unknown
}

/** `/apis/networking.istio.io/v1/virtualservices` (or `/api/v1/services`) for an object's kind. */
function collectionOf(obj: Obj): string {
  const k = obj.kind.toLowerCase()
  const plural = /[^aeiou]y$/.test(k) ? `${k.slice(0, -1)}ies` : `${k}s`
  return obj.apiVersion.includes('/')
    ? `/apis/${obj.apiVersion}/${plural}`
    : `/api/${obj.apiVersion}/${plural}`
}

export class FakeApiServer {
  readonly writes: RecordedWrite[] = []
  /** Answer this HTTP status to status writes instead of applying them (undefined: apply). */
  failStatusWrites: number | undefined
  private readonly server: Server
  private readonly objects = new Map<string, Obj>()
  private readonly watches = new Map<string, Set<ServerResponse>>()
  private version = 100

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => res.writeHead(500).end(String(err)))
    })
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r))
  }

  async close(): Promise<void> {
    for (const set of this.watches.values()) for (const res of set) res.end()
    this.server.closeAllConnections()
    await new Promise((r) => this.server.close(r))
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig()
    const { port } = this.server.address() as AddressInfo
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'fake-token' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    })
    return kc
  }

  /** Creates or replaces an object as a client would (generation bumped when its spec changes). */
  put(obj: Obj): Obj {
    const key = `${collectionOf(obj)}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`
    const old = this.objects.get(key)
    const specChanged = !old || JSON.stringify(old.spec) !== JSON.stringify(obj.spec)
    const oldGeneration = (old?.metadata.generation as number | undefined) ?? 0
    const stored: Obj = {
      ...obj,
      ...(old?.status !== undefined ? { status: old.status } : {}),
      metadata: {
        creationTimestamp: '2026-01-01T00:00:00Z',
        ...obj.metadata,
        uid: (old?.metadata.uid as string | undefined) ?? `uid-${obj.metadata.name}-${this.version}`,
        resourceVersion: String(++this.version),
        generation: specChanged ? oldGeneration + 1 : oldGeneration,
      },
    }
    this.objects.set(key, stored)
    this.emit(collectionOf(obj), old ? 'MODIFIED' : 'ADDED', stored)
    return stored
  }

  /** Replaces an object's status as another client writing the status subresource would. */
  setStatus(apiVersion: string, kind: string, namespace: string, name: string, status: unknown): void {
    const collection = collectionOf({ apiVersion, kind, metadata: { name } })
    const key = `${collection}/${namespace}/${name}`
    const old = this.objects.get(key)
    if (!old) throw new Error(`fake API server: no ${kind} ${namespace}/${name}`)
    const stored = { ...old, status, metadata: { ...old.metadata, resourceVersion: String(++this.version) } }
    this.objects.set(key, stored)
    this.emit(collection, 'MODIFIED', stored)
  }

  delete(obj: Obj): void {
    const key = `${collectionOf(obj)}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`
    const old = this.objects.get(key)
    if (!old) return
    this.objects.delete(key)
    this.emit(collectionOf(obj), 'DELETED', {
      ...old,
      metadata: { ...old.metadata, resourceVersion: String(++this.version) },
    })
  }

  get(apiVersion: string, kind: string, namespace: string, name: string): Obj | undefined {
    return this.objects.get(`${collectionOf({ apiVersion, kind, metadata: { name } })}/${namespace}/${name}`)
  }

  private emit(collection: string, type: string, object: Obj): void {
    for (const res of this.watches.get(collection) ?? []) res.write(`${JSON.stringify({ type, object })}\n`)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x')
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (req.method === 'PATCH') {
      let text = ''
      for await (const chunk of req) text += chunk
      const body = JSON.parse(text) as { op: string; path: string; value: unknown }[]
      this.writes.push({
        method: 'PATCH',
        path: url.pathname,
        contentType: req.headers['content-type'],
        body,
      })
      // /apis/<group>/<version>/namespaces/<ns>/<plural>/<name>/status
      const m = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)\/status$/.exec(url.pathname)
      if (!m) return json(404, { kind: 'Status', code: 404, message: 'not a status subresource' })
      if (this.failStatusWrites)
        return json(this.failStatusWrites, {
          kind: 'Status',
          code: this.failStatusWrites,
          message: 'refused by the fake',
        })
      const key = `/apis/${m[1]}/${m[2]}/${m[4]}/${m[3]}/${m[5]}`
      const old = this.objects.get(key)
      if (!old)
        return json(404, { kind: 'Status', code: 404, reason: 'NotFound', message: `${m[5]} not found` })
      const op = body[0]
      if (body.length !== 1 || op?.op !== 'add' || op.path !== '/status')
        return json(422, { kind: 'Status', code: 422, message: 'the fake takes one add of /status' })
      const stored = {
        ...old,
        status: op.value,
        metadata: { ...old.metadata, resourceVersion: String(++this.version) },
      }
      this.objects.set(key, stored)
      this.emit(`/apis/${m[1]}/${m[2]}/${m[4]}`, 'MODIFIED', stored)
      return json(200, stored)
    }
    const collection = url.pathname
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
      res.flushHeaders()
      const set = this.watches.get(collection) ?? new Set()
      set.add(res)
      this.watches.set(collection, set)
      res.on('close', () => set.delete(res))
      return
    }
    const items = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${collection}/`))
      .map(([, o]) => o)
    json(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.version) }, items })
  }
}
