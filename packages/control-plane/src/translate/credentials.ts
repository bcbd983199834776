// A Gateway server's credentialName → the Secret resource its gateway proxy terminates TLS with.
// As in Istio, the Kubernetes Secret lives in the namespace of the gateway's pods: `tls.crt` and
// `tls.key` (or the generic `cert` and `key`), and for MUTUAL the CA that verifies clients from
// `ca.crt` (`cacert`) or from a separate `<credentialName>-cacert` Secret. The PEM is parsed here
// so that a broken Secret leaves its server out (and is reported) instead of being NACKed by the
// proxy, which would hold back every other certificate of that gateway.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import type { Secret } from '@minimesh/api'
import type { SecretData } from '../snapshot.ts'

/** The Secret resource name for a credential: `kubernetes://<namespace>/<credentialName>`. */
function credentialResourceName(namespace: string, credentialName: string): string {
  return `kubernetes://${namespace}/${credentialName}`
}

export type CredentialResult = { secret: Secret } | { problem: string }

/** PEM blocks of one type in a text. */
function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g')
  return text.match(re) ?? []
}

function checkCertificates(pem: string, what: string): string | undefined {
  const blocks = pemBlocks(pem, 'CERTIFICATE')
  if (blocks.length === 0) return `${what} holds no PEM certificate`
  for (const b of blocks)
    try {
      new X509Certificate(b)
    } catch (err) {
      return `${what} is not a valid certificate: ${(err as Error).message}`
    }
  return undefined
}

/**
 * Resolves `credentialName` in `namespace`. `mutual`: a CA is required. Every problem is a
 * sentence that names the Secret and the key.
 */
export function resolveCredential(
  secrets: ReadonlyMap<string, SecretData>,
  namespace: string,
  credentialName: string,
  mutual: boolean,
): CredentialResult {
  const id = `${namespace}/${credentialName}`
  const data = secrets.get(id)
  if (!data) return { problem: `Secret ${id} does not exist` }
  const certKey = data['tls.crt'] !== undefined ? 'tls.crt' : 'cert'
  const keyKey = data['tls.key'] !== undefined ? 'tls.key' : 'key'
  const cert = data[certKey]
  const key = data[keyKey]
  if (!cert || !key) return { problem: `Secret ${id} has no tls.crt and tls.key (nor cert and key)` }
  const bad = checkCertificates(cert, `Secret ${id} key ${certKey}`)
  if (bad) return { problem: bad }
  try {
    const leaf = new X509Certificate(pemBlocks(cert, 'CERTIFICATE')[0]!)
    if (!leaf.checkPrivateKey(createPrivateKey(key)))
      return {
        problem: `Secret ${id}: the key in ${keyKey} does not belong to the certificate in ${certKey}`,
      }
  } catch (err) {
    return { problem: `Secret ${id} key ${keyKey} is not a valid private key: ${(err as Error).message}` }
  }
  let trustedCa: string | undefined
  let caFrom = ''
  const own = data['ca.crt'] ?? data.cacert
  if (own) {
    trustedCa = own
    caFrom = `Secret ${id} key ${data['ca.crt'] !== undefined ? 'ca.crt' : 'cacert'}`
  } else {
    const separate = secrets.get(`${id}-cacert`)
    const ca = separate?.['ca.crt'] ?? separate?.cacert
    if (ca) {
      trustedCa = ca
      caFrom = `Secret ${id}-cacert`
    }
  }
  if (trustedCa) {
    const badCa = checkCertificates(trustedCa, caFrom)
    if (badCa) return { problem: badCa }
  } else if (mutual)
    return {
      problem: `Secret ${id} has no ca.crt and there is no Secret ${id}-cacert: MUTUAL needs a CA to verify clients with`,
    }
  return {
    secret: {
      name: credentialResourceName(namespace, credentialName),
      certificateChain: cert,
      privateKey: key,
      ...(trustedCa ? { trustedCa } : {}),
    },
  }
}
