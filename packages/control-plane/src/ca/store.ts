// Where the CA's keys live. meshd's own root is made at first start and kept, so a restarted
// meshd (or a second replica) signs with the same root: on Kubernetes in the Secret `minimesh-ca`
// of meshd's namespace, elsewhere in files under meshd's state dir. A plug-in CA (Istio's
// `cacerts`: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem), when present, wins.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../errors.ts'
import { type CaMaterial, CertificateAuthority, generateRoot } from './authority.ts'
import { normalizePem, splitPem } from './x509.ts'

export interface KeptRoot {
  certPem: string
  keyPem: string
}

export interface CaStore {
  /** Where the material lives, for logs and errors. */
  readonly description: string
  /** The plug-in CA's files when they exist (MESH_ERR_CA_PLUGIN when incomplete). */
  loadPlugin(): Promise<CaMaterial | undefined>
  /** meshd's own root, kept by an earlier start. */
  loadRoot(): Promise<KeptRoot | undefined>
  /** Keeps a new root; resolves with the root that is kept (another replica's when it got there first). */
  saveRoot(root: KeptRoot): Promise<KeptRoot>
}

const PLUGIN_FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'] as const
/** Name of the plug-in Secret (and of the plug-in directory inside the state dir), as in Istio. */
const PLUGIN_SECRET = 'cacerts'
/** Name of the Secret meshd keeps its own root in. */
const ROOT_SECRET = 'minimesh-ca'

/** Plug-in material from Istio's four files (cert-chain.pem may be absent when ca-cert is signed by the root). */
function pluginMaterial(
  files: Partial<Record<(typeof PLUGIN_FILES)[number], string>>,
  where: string,
): CaMaterial {
  const missing = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem'].filter((f) => !files[f as 'ca-cert.pem'])
  if (missing.length)
    throw new ControlPlaneError('MESH_ERR_CA_PLUGIN', `plug-in CA ${where}: ${missing.join(', ')} missing`)
  let certPem: string
  try {
    certPem = normalizePem(files['ca-cert.pem']!)
  } catch (err) {
    throw new ControlPlaneError(
      'MESH_ERR_CA_PLUGIN',
      `plug-in CA ${where}: ca-cert.pem is not a PEM certificate`,
      {
        cause: err,
      },
    )
  }
  const chainPem = splitPem(files['cert-chain.pem'] ?? '')
    .map((p) => normalizePem(p))
    .filter((p) => p !== certPem)
  return { certPem, keyPem: files['ca-key.pem']!, chainPem, rootPem: files['root-cert.pem']! }
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode })
  renameSync(tmp, path)
}

/**
 * Files: the root in `<stateDir>/ca/{ca-cert.pem,ca-key.pem}` (key 0600), the plug-in CA in
 * `pluginDir` (default `<stateDir>/cacerts`) when that directory exists.
 */
export class FileCaStore implements CaStore {
  readonly description: string
  private readonly rootDir: string
  private readonly pluginDir: string

  constructor(stateDir: string, options: { pluginDir?: string } = {}) {
    this.rootDir = join(stateDir, 'ca')
    this.pluginDir = options.pluginDir ?? join(stateDir, PLUGIN_SECRET)
    this.description = `files in ${stateDir}`
  }

  async loadPlugin(): Promise<CaMaterial | undefined> {
    if (!existsSync(this.pluginDir)) return undefined
    const files: Record<string, string> = {}
    for (const f of PLUGIN_FILES) {
      const p = join(this.pluginDir, f)
      if (existsSync(p)) files[f] = readFileSync(p, 'utf8')
    }
    return pluginMaterial(files, `directory ${this.pluginDir}`)
  }

  async loadRoot(): Promise<KeptRoot | undefined> {
    const cert = join(this.rootDir, 'ca-cert.pem')
    const key = join(this.rootDir, 'ca-key.pem')
    if (!existsSync(cert) || !existsSync(key)) return undefined
    try {
      return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') }
    } catch (err) {
      throw new ControlPlaneError(
        'MESH_ERR_CA_STORE',
        `cannot read the CA root in ${this.rootDir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
  }

  async saveRoot(root: KeptRoot): Promise<KeptRoot> {
    try {
      mkdirSync(this.rootDir, { recursive: true, mode: 0o700 })
      writeAtomic(join(this.rootDir, 'ca-key.pem'), root.keyPem, 0o600)
      writeAtomic(join(this.rootDir, 'ca-cert.pem'), root.certPem, 0o644)
    } catch (err) {
      throw new ControlPlaneError(
        'MESH_ERR_CA_STORE',
        `cannot keep the CA root in ${this.rootDir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    return root
  }
}

/** Nowhere: a root that lives as long as the process (tests, meshd without a state dir). */
export class MemoryCaStore implements CaStore {
  readonly description = 'memory (not kept)'
  private root?: KeptRoot
  private readonly plugin?: CaMaterial
  constructor(plugin?: CaMaterial) {
    this.plugin = plugin
  }
  async loadPlugin(): Promise<CaMaterial | undefined> {
    return this.plugin
  }
  async loadRoot(): Promise<KeptRoot | undefined> {
    return this.root
  }
  async saveRoot(root: KeptRoot): Promise<KeptRoot> {
    this.root ??= root
    return this.root
  }
}

const b64d = (v: string | undefined) =>
  v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8')
const httpCode = (err: unknown) => (err as { code?: number }).code

/**
 * Kubernetes Secrets in meshd's namespace: `cacerts` (plug-in, read only) and `minimesh-ca`
 * (meshd's own root: created when absent, reused when present). meshd needs get and create on
 * secrets in its namespace.
 */
export class SecretCaStore implements CaStore {
  readonly description: string
  private readonly api: CoreV1Api
  private readonly namespace: string

  constructor(kubeConfig: KubeConfig, namespace: string) {
    this.api = kubeConfig.makeApiClient(CoreV1Api)
    this.namespace = namespace
    this.description = `Secrets ${namespace}/${ROOT_SECRET}, ${namespace}/${PLUGIN_SECRET}`
  }

  private async read(name: string): Promise<Record<string, string> | undefined> {
    try {
      const s = await this.api.readNamespacedSecret({ name, namespace: this.namespace })
      const out: Record<string, string> = {}
      for (const [k, v] of Object.entries(s.data ?? {})) out[k] = b64d(v)!
      return out
    } catch (err) {
      if (httpCode(err) === 404) return undefined
      throw new ControlPlaneError(
        'MESH_ERR_CA_STORE',
        `cannot read Secret ${this.namespace}/${name}: ${(err as Error).message.split('\n')[0]}`,
        { cause: err },
      )
    }
  }

  async loadPlugin(): Promise<CaMaterial | undefined> {
    const data = await this.read(PLUGIN_SECRET)
    return data ? pluginMaterial(data, `Secret ${this.namespace}/${PLUGIN_SECRET}`) : undefined
  }

  async loadRoot(): Promise<KeptRoot | undefined> {
    const data = await this.read(ROOT_SECRET)
    if (!data) return undefined
    if (!data['ca-cert.pem'] || !data['ca-key.pem'])
      throw new ControlPlaneError(
        'MESH_ERR_CA_STORE',
        `Secret ${this.namespace}/${ROOT_SECRET} lacks ca-cert.pem or ca-key.pem; delete it to make a new root (every workload certificate changes)`,
      )
    return { certPem: data['ca-cert.pem'], keyPem: data['ca-key.pem'] }
  }

  async saveRoot(root: KeptRoot): Promise<KeptRoot> {
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    try {
      await this.api.createNamespacedSecret({
        namespace: this.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: ROOT_SECRET,
            namespace: this.namespace,
            labels: { 'app.kubernetes.io/part-of': 'minimesh' },
          },
          type: 'minimesh.dev/ca-root',
          data: {
            'ca-cert.pem': b64(root.certPem),
            'ca-key.pem': b64(root.keyPem),
            'root-cert.pem': b64(root.certPem),
          },
        },
      })
      return root
    } catch (err) {
      // Another replica made it first: use theirs, so every replica signs with one root.
      if (httpCode(err) === 409) {
        const kept = await this.loadRoot()
        if (kept) return kept
      }
      throw new ControlPlaneError(
        'MESH_ERR_CA_STORE',
        `cannot create Secret ${this.namespace}/${ROOT_SECRET}: ${(err as Error).message.split('\n')[0]}`,
        { cause: err },
      )
    }
  }
}

/**
 * The CA meshd signs with: the plug-in CA when the store has one, else meshd's kept root, else a
 * new root that is kept for the next start.
 */
export async function loadCertificateAuthority(store: CaStore, log?: Logger): Promise<CertificateAuthority> {
  const plugin = await store.loadPlugin()
  if (plugin) {
    const ca = await CertificateAuthority.create(plugin, { plugin: true })
    log?.info(
      { store: store.description, notAfter: ca.notAfter },
      'ca: signing with the plug-in CA (cacerts)',
    )
    return ca
  }
  let root = await store.loadRoot()
  if (root) log?.info({ store: store.description }, 'ca: signing with the kept mesh root')
  else {
    root = await store.saveRoot(await generateRoot())
    log?.info({ store: store.description }, 'ca: made a new self-signed mesh root')
  }
  try {
    return await CertificateAuthority.create({ ...root, chainPem: [], rootPem: root.certPem })
  } catch (err) {
    throw new ControlPlaneError(
      'MESH_ERR_CA_STORE',
      `the kept CA root (${store.description}) is unusable: ${(err as Error).message}`,
      { cause: err },
    )
  }
}
