// The local cluster's ServiceAccount token issuer, in the place of kube-apiserver's
// (--service-account-signing-key-file): projected `serviceAccountToken` volumes get a JWT shaped
// like Kubernetes' bound tokens (ES256; iss, sub system:serviceaccount:<ns>:<sa>, aud, exp, iat,
// nbf, kubernetes.io {namespace, pod {name, uid}, serviceaccount {name}}). The signing key lives
// in the run directory and survives restarts; its public half is written as a JWKS file that
// meshd is given (`--token-jwks`) to check the tokens the proxies present to its CA.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const TOKEN_ISSUER = 'https://kubernetes.default.svc.cluster.local'

export interface TokenRequest {
  namespace: string
  serviceAccount: string
  pod: { name: string; uid: string }
  audience: string
  /** Kubernetes' default 3600; at least 600. */
  expirationSeconds: number
}

function writeAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode })
  renameSync(tmp, path)
}

export class ServiceAccountTokenIssuer {
  readonly keyFile: string
  readonly jwksFile: string
  readonly kid: string
  readonly #key: KeyObject

  /** Loads the signing key from `dir` (making one on first use) and writes `dir/jwks.json`. */
  constructor(dir: string) {
    this.keyFile = join(dir, 'signing-key.pem')
    this.jwksFile = join(dir, 'jwks.json')
    if (existsSync(this.keyFile)) this.#key = createPrivateKey(readFileSync(this.keyFile, 'utf8'))
    else {
      this.#key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      writeAtomic(this.keyFile, this.#key.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600)
    }
    const pub = createPublicKey(this.#key)
    // Kubernetes' key id: the base64url SHA-256 of the public key's DER.
    this.kid = createHash('sha256')
      .update(pub.export({ type: 'spki', format: 'der' }))
      .digest('base64url')
    const jwk = { ...pub.export({ format: 'jwk' }), kid: this.kid, alg: 'ES256', use: 'sig' }
    writeAtomic(this.jwksFile, `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`, 0o644)
  }

  /** A signed token; `now` in ms (tests). */
  issue(r: TokenRequest, now = Date.now()): { token: string; expiresAt: number } {
    const iat = Math.floor(now / 1000)
    const exp = iat + Math.max(600, r.expirationSeconds)
    const claims = {
      aud: [r.audience],
      exp,
      iat,
      iss: TOKEN_ISSUER,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: r.namespace,
        node: { name: 'local' },
        pod: { name: r.pod.name, uid: r.pod.uid },
        serviceaccount: { name: r.serviceAccount },
      },
      nbf: iat,
      sub: `system:serviceaccount:${r.namespace}:${r.serviceAccount}`,
    }
    const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const input = `${enc({ alg: 'ES256', kid: this.kid })}.${enc(claims)}`
    const signature = sign('sha256', Buffer.from(input), { key: this.#key, dsaEncoding: 'ieee-p1363' })
    return { token: `${input}.${signature.toString('base64url')}`, expiresAt: exp * 1000 }
  }
}
