// The certificates a gateway terminates TLS with (Secret resources from the control plane). A
// Secret is checked when it is accepted (a certificate or key that does not parse, or a key that
// is not the certificate's, is a NACK); its secure contexts are made on first use, one per set of
// chain options, and belong to that Secret object: a rotated Secret is a new object, so new
// connections get the new certificate while open ones keep the context they were made with.
import type { SecureContext } from 'node:tls'
import type { DownstreamTls, Secret } from '@minimesh/api/config'
import { ConfigError } from '../errors.ts'

/** node:tls, loaded only by a proxy that terminates or originates TLS. */
const nodeTls = () => process.getBuiltinModule('node:tls')

/** Throws ConfigError naming the Secret when its PEM does not make a secure context. */
export function checkSecret(secret: Secret): void {
  const { createSecureContext } = nodeTls()
  const field = (f: keyof Secret, run: () => void) => {
    try {
      run()
    } catch (cause) {
      throw new ConfigError(secret.name, `Secret ${secret.name}: ${f}: ${(cause as Error).message}`, {
        cause,
      })
    }
  }
  field('certificateChain', () => createSecureContext({ cert: secret.certificateChain }))
  field('privateKey', () => createSecureContext({ cert: secret.certificateChain, key: secret.privateKey }))
  if (secret.trustedCa !== undefined) field('trustedCa', () => createSecureContext({ ca: secret.trustedCa }))
}

const contexts = new WeakMap<Secret, Map<string, SecureContext>>()

/** The secure context a chain's TLS uses with this Secret (made once per Secret object and options). */
export function secureContextFor(secret: Secret, tls: DownstreamTls): SecureContext {
  const key = `${tls.minVersion ?? ''}|${tls.maxVersion ?? ''}|${tls.requireClientCertificate}`
  let byOptions = contexts.get(secret)
  if (!byOptions) {
    byOptions = new Map()
    contexts.set(secret, byOptions)
  }
  let ctx = byOptions.get(key)
  if (!ctx) {
    ctx = nodeTls().createSecureContext({
      cert: secret.certificateChain,
      key: secret.privateKey,
      ...(tls.requireClientCertificate && secret.trustedCa !== undefined ? { ca: secret.trustedCa } : {}),
      minVersion: tls.minVersion ?? 'TLSv1.2',
      maxVersion: tls.maxVersion ?? 'TLSv1.3',
    })
    byOptions.set(key, ctx)
  }
  return ctx
}
