// Who is calling the CA: the caller's projected ServiceAccount token (audience `minimesh-ca`),
// checked by the Kubernetes API server (TokenReview, as istiod does) or, on the local cluster, by
// meshd itself against the cluster's public keys (a JWKS file) and its registry of pods.
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node'
import { ControlPlaneError } from '../errors.ts'

/** The audience the CA accepts (the projected token's `audience`). */
export const CA_AUDIENCE = 'minimesh-ca'

export interface CallerIdentity {
  namespace: string
  serviceAccount: string
  /** The pod the token is bound to, when it says. */
  pod?: { name: string; uid?: string }
}

export interface TokenAuthenticator {
  /** How tokens are checked (`tokenreview`, `jwks <file>`), for logs. */
  readonly description: string
  /** The caller of a valid token; throws ControlPlaneError MESH_ERR_CA_TOKEN with the reason otherwise. */
  authenticate(token: string): Promise<CallerIdentity>
}

const refuse = (message: string): never => {
  throw new ControlPlaneError('MESH_ERR_CA_TOKEN', message)
}

/** `system:serviceaccount:<ns>:<sa>` → namespace and service account. */
function parseServiceAccountUser(username: string): { namespace: string; serviceAccount: string } {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username)
  if (!m) return refuse(`the token is not a ServiceAccount's (user "${username}")`)
  return { namespace: m[1]!, serviceAccount: m[2]! }
}

// ---- the local cluster: a JWKS file and the registry's pods ----

/** What meshd knows about a pod (from its configuration source). */
export type PodLookup = (
  namespace: string,
  name: string,
) => Promise<{ serviceAccount: string; uid?: string } | undefined>

export interface JwksAuthenticatorOptions {
  /** The cluster's public keys (RFC 7517 JWK Set), re-read when the file changes. */
  jwksFile: string
  audience?: string
  /** When set, `iss` must equal it. */
  issuer?: string
  /** The bound pod must exist with the token's service account. */
  podLookup: PodLookup
  /** Tolerated clock difference for exp/nbf/iat, in seconds. Default 60. */
  leewaySeconds?: number
  now?: () => number
}

interface Jwk extends JsonWebKey {
  kid?: string
  alg?: string
}

const b64json = (part: string, what: string): Record<string, unknown> => {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>
  } catch {}
  return refuse(`the token's ${what} is not base64url JSON`)
}

/**
 * Verifies ES256/RS256 JWTs as the API server's ServiceAccount authenticator does (signature by one
 * of the JWKS keys, exp, nbf, audience, issuer) and then that the bound pod
 * (`kubernetes.io.pod`) still exists in meshd's registry with the token's service account.
 */
export class JwksAuthenticator implements TokenAuthenticator {
  readonly description: string
  private readonly o: JwksAuthenticatorOptions
  private cached?: { mtimeMs: number; keys: Jwk[] }

  constructor(options: JwksAuthenticatorOptions) {
    this.o = options
    this.description = `jwks ${options.jwksFile}`
  }

  private keys(): Jwk[] {
    let mtimeMs: number
    try {
      mtimeMs = statSync(this.o.jwksFile).mtimeMs
      if (this.cached?.mtimeMs === mtimeMs) return this.cached.keys
      const set = JSON.parse(readFileSync(this.o.jwksFile, 'utf8')) as { keys?: Jwk[] }
      this.cached = { mtimeMs, keys: Array.isArray(set.keys) ? set.keys : [] }
      return this.cached.keys
    } catch (err) {
      return refuse(`meshd cannot read the token keys ${this.o.jwksFile}: ${(err as Error).message}`)
    }
  }

  async authenticate(token: string): Promise<CallerIdentity> {
    const parts = token.split('.')
    if (parts.length !== 3) return refuse('the token is not a JWT (three dot-separated parts)')
    const [h, p, s] = parts as [string, string, string]
    const header = b64json(h, 'header')
    const alg = header.alg
    if (alg !== 'ES256' && alg !== 'RS256')
      return refuse(`the token's algorithm ${String(alg)} is not ES256 or RS256`)
    const kty = alg === 'ES256' ? 'EC' : 'RSA'
    const candidates = this.keys().filter(
      (k) => k.kty === kty && (header.kid === undefined || k.kid === header.kid) && (!k.alg || k.alg === alg),
    )
    const signed = Buffer.from(`${h}.${p}`)
    const signature = Buffer.from(s, 'base64url')
    const ok = candidates.some((jwk) => {
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' })
        return verify('sha256', signed, alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, signature)
      } catch {
        return false
      }
    })
    if (!ok)
      return refuse(
        candidates.length === 0
          ? `no key of ${this.o.jwksFile} matches the token (kid ${String(header.kid)})`
          : "the token's signature does not verify",
      )
    const claims = b64json(p, 'payload')
    const now = (this.o.now?.() ?? Date.now()) / 1000
    const leeway = this.o.leewaySeconds ?? 60
    if (typeof claims.exp !== 'number') return refuse('the token has no expiry (exp)')
    if (claims.exp + leeway < now)
      return refuse(`the token expired at ${new Date(claims.exp * 1000).toISOString()}`)
    if (typeof claims.nbf === 'number' && claims.nbf - leeway > now)
      return refuse(`the token is not valid before ${new Date(claims.nbf * 1000).toISOString()}`)
    const audience = this.o.audience ?? CA_AUDIENCE
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!aud.includes(audience))
      return refuse(`the token's audience ${JSON.stringify(claims.aud)} does not include ${audience}`)
    if (this.o.issuer !== undefined && claims.iss !== this.o.issuer)
      return refuse(`the token's issuer ${String(claims.iss)} is not ${this.o.issuer}`)
    const who = parseServiceAccountUser(String(claims.sub))
    const k8s = (claims['kubernetes.io'] ?? {}) as {
      namespace?: string
      pod?: { name?: string; uid?: string }
      serviceaccount?: { name?: string }
    }
    if (k8s.namespace !== who.namespace || k8s.serviceaccount?.name !== who.serviceAccount)
      return refuse(`the token's kubernetes.io claims do not match its subject ${String(claims.sub)}`)
    const podName = k8s.pod?.name
    if (!podName) return refuse('the token is not bound to a pod (no kubernetes.io.pod claim)')
    const pod = await this.o.podLookup(who.namespace, podName)
    if (!pod) return refuse(`the token's pod ${who.namespace}/${podName} does not exist`)
    if (k8s.pod?.uid && pod.uid && k8s.pod.uid !== pod.uid)
      return refuse(
        `the token's pod ${who.namespace}/${podName} was replaced (uid ${pod.uid}, token for ${k8s.pod.uid})`,
      )
    if (pod.serviceAccount !== who.serviceAccount)
      return refuse(
        `the token's pod ${who.namespace}/${podName} runs as service account ${pod.serviceAccount}, not ${who.serviceAccount}`,
      )
    return { ...who, pod: { name: podName, ...(k8s.pod?.uid ? { uid: k8s.pod.uid } : {}) } }
  }
}

// ---- Kubernetes: TokenReview ----

/**
 * Asks the API server (TokenReview with audiences [minimesh-ca]): it checks the signature, expiry,
 * audience and that the bound pod still exists. meshd needs `create` on tokenreviews.
 */
export class TokenReviewAuthenticator implements TokenAuthenticator {
  readonly description = 'tokenreview'
  private readonly api: AuthenticationV1Api
  private readonly audience: string

  constructor(kubeConfig: KubeConfig, options: { audience?: string } = {}) {
    this.api = kubeConfig.makeApiClient(AuthenticationV1Api)
    this.audience = options.audience ?? CA_AUDIENCE
  }

  async authenticate(token: string): Promise<CallerIdentity> {
    let review: Awaited<ReturnType<AuthenticationV1Api['createTokenReview']>>
    try {
      review = await this.api.createTokenReview({
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, audiences: [this.audience] },
        },
      })
    } catch (err) {
      const e = err as { code?: number; message?: string }
      throw new ControlPlaneError(
        'MESH_ERR_CA_TOKEN',
        `the TokenReview failed${e.code ? ` (HTTP ${e.code})` : ''}: ${(e.message ?? String(err)).split('\n')[0]}`,
        { cause: err },
      )
    }
    const status = review.status ?? {}
    if (!status.authenticated)
      return refuse(`the API server rejected the token: ${status.error ?? 'not authenticated'}`)
    if (status.audiences && !status.audiences.includes(this.audience))
      return refuse(
        `the token's audiences ${JSON.stringify(status.audiences)} do not include ${this.audience}`,
      )
    const who = parseServiceAccountUser(status.user?.username ?? '')
    const podName = status.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0]
    const podUid = status.user?.extra?.['authentication.kubernetes.io/pod-uid']?.[0]
    return { ...who, ...(podName ? { pod: { name: podName, ...(podUid ? { uid: podUid } : {}) } } : {}) }
  }
}
