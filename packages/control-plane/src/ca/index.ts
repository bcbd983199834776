// The mesh CA as meshd runs it: the CA from its store, the certificate service on meshd's gRPC
// server, meshd's serving certificate for 15012, the token authenticator.
import type * as grpc from '@grpc/grpc-js'
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import type { Metrics } from '../monitoring/metrics.ts'
import type { ConfigStore } from '../store.ts'
import type { CertificateAuthority } from './authority.ts'
import { addCertificateService, DEFAULT_WORKLOAD_CERT_TTL_SECONDS } from './service.ts'
import { ServingCertificate, servingNames } from './serving.ts'
import { type CaStore, FileCaStore, loadCertificateAuthority, MemoryCaStore, SecretCaStore } from './store.ts'
import {
  JwksAuthenticator,
  type PodLookup,
  type TokenAuthenticator,
  TokenReviewAuthenticator,
} from './tokens.ts'

export interface MeshCaOptions {
  /** gRPC over TLS `host:port` serving the certificate, discovery and quota services. Default 0.0.0.0:15012. */
  address?: string
  /** Where the CA's material lives; default: see resolveCaStore. */
  store?: CaStore
  /** meshd's state dir: the root is kept in `<dir>/ca/`, a plug-in CA read from `<dir>/cacerts/`. */
  stateDir?: string
  /** A plug-in CA directory (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem); `--ca-dir`. */
  pluginDir?: string
  /** On Kubernetes: Secrets and TokenReviews go through it. */
  kubeConfig?: KubeConfig
  /** meshd's namespace (Secrets, serving DNS names). Default $POD_NAMESPACE or minimesh-system. */
  namespace?: string
  /** meshd's pod IP, a SAN of its serving certificate. Default $POD_IP. */
  podIp?: string
  /** How callers' tokens are checked; default: tokenJwks, else TokenReview on Kubernetes. */
  authenticator?: TokenAuthenticator
  /** The local cluster's public token keys (`--token-jwks`). */
  tokenJwks?: string
  workloadCertTtlSeconds?: number
  maxWorkloadCertTtlSeconds?: number
  /** Validity of meshd's own serving certificate (re-issued at half life). Default 24 h. */
  servingCertTtlSeconds?: number
}

export interface MeshCa {
  readonly ca: CertificateAuthority
  readonly serving: ServingCertificate
  readonly authenticator?: TokenAuthenticator
  /** The mesh roots (PEM): the injector's caRootCert. */
  readonly rootsPem: string
  close(): void
}

/** Files when a state or plug-in dir is given; else the Secrets on Kubernetes; else memory. */
function resolveCaStore(o: MeshCaOptions): CaStore {
  if (o.store) return o.store
  if (o.stateDir) return new FileCaStore(o.stateDir, { pluginDir: o.pluginDir })
  if (o.pluginDir) return new FileCaStore(o.pluginDir, { pluginDir: o.pluginDir })
  if (o.kubeConfig) return new SecretCaStore(o.kubeConfig, meshdNamespace(o))
  return new MemoryCaStore()
}

function meshdNamespace(o: MeshCaOptions): string {
  return o.namespace ?? process.env.POD_NAMESPACE ?? 'minimesh-system'
}

/** Pods from meshd's configuration store; waits up to `waitMs` for a pod that is not there yet. */
function storePodLookup(store: ConfigStore, waitMs = 2000): PodLookup {
  const find = (ns: string, name: string) => {
    const obj = store.get(`core/Pod/${ns}/${name}`)?.object
    if (!obj) return undefined
    const spec = (obj.spec ?? {}) as { serviceAccountName?: string; serviceAccount?: string }
    return {
      serviceAccount: spec.serviceAccountName ?? spec.serviceAccount ?? 'default',
      ...(typeof obj.metadata.uid === 'string' ? { uid: obj.metadata.uid } : {}),
    }
  }
  return (ns, name) => {
    const now = find(ns, name)
    if (now || waitMs <= 0) return Promise.resolve(now)
    // A pod's proxy can ask before meshd has read the pod: wait a little for it.
    return new Promise((resolve) => {
      const done = (v: ReturnType<typeof find>) => {
        clearTimeout(timer)
        stop()
        resolve(v)
      }
      const stop = store.onChange(() => {
        const v = find(ns, name)
        if (v) done(v)
      })
      const timer = setTimeout(() => done(undefined), waitMs)
    })
  }
}

/**
 * Loads (or makes) the CA and adds the certificate service to `server`; resolves once meshd's
 * serving certificate exists. Binding 15012 is the caller's (credentials()).
 */
export async function startMeshCa(
  o: MeshCaOptions,
  deps: { server: grpc.Server; store: ConfigStore; metrics?: Metrics; logger?: Logger },
): Promise<MeshCa> {
  const log = deps.logger
  const ca = await loadCertificateAuthority(resolveCaStore(o), log)
  deps.metrics?.caRootExpiry.set(ca.rootNotAfter.getTime() / 1000)
  deps.metrics?.caCertExpiry.set(ca.notAfter.getTime() / 1000)
  const authenticator =
    o.authenticator ??
    (o.tokenJwks
      ? new JwksAuthenticator({ jwksFile: o.tokenJwks, podLookup: storePodLookup(deps.store) })
      : o.kubeConfig
        ? new TokenReviewAuthenticator(o.kubeConfig)
        : undefined)
  if (authenticator)
    log?.info({ tokens: authenticator.description }, 'ca: callers authenticated by their tokens')
  else
    log?.warn(
      'ca: no way to verify tokens (not on Kubernetes, no --token-jwks): every certificate request is refused',
    )
  addCertificateService(deps.server, {
    ca,
    authenticator,
    defaultTtlSeconds: o.workloadCertTtlSeconds,
    maxTtlSeconds: o.maxWorkloadCertTtlSeconds,
    metrics: deps.metrics,
    logger: log,
  })
  const serving = new ServingCertificate(
    ca,
    servingNames({ namespace: meshdNamespace(o), podIp: o.podIp ?? process.env.POD_IP }),
    o.servingCertTtlSeconds ?? DEFAULT_WORKLOAD_CERT_TTL_SECONDS,
    log,
  )
  await serving.start()
  return {
    ca,
    serving,
    authenticator,
    rootsPem: ca.rootsPem,
    close: () => serving.close(),
  }
}

export { type CaMaterial, CertificateAuthority, spiffeId } from './authority.ts'
export { plaintextWithoutCa } from './service.ts'
export {
  type CaStore,
  FileCaStore,
  MemoryCaStore,
  SecretCaStore,
} from './store.ts'
export {
  CA_AUDIENCE,
  type CallerIdentity,
  JwksAuthenticator,
  type PodLookup,
  type TokenAuthenticator,
  TokenReviewAuthenticator,
} from './tokens.ts'
