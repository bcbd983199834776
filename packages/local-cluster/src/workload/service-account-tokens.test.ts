// The local cluster's ServiceAccount tokens checked by meshd's own verifier (the JWKS file the
// local cluster gives meshd with --token-jwks): a good token passes, a deleted pod's is refused.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JwksAuthenticator } from '@minimesh/control-plane'
import { afterAll, describe, expect, it } from 'vitest'
import { ServiceAccountTokenIssuer, TOKEN_ISSUER } from './service-account-tokens.ts'

const dir = mkdtempSync(join(tmpdir(), 'local-sa-tokens-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ServiceAccount tokens', () => {
  const issuer = new ServiceAccountTokenIssuer(dir)
  const pods = new Map([['default/productpage-1', { serviceAccount: 'bookinfo-productpage', uid: 'u-1' }]])
  const verifier = new JwksAuthenticator({
    jwksFile: issuer.jwksFile,
    issuer: TOKEN_ISSUER,
    podLookup: async (ns, name) => pods.get(`${ns}/${name}`),
  })
  const request = {
    namespace: 'default',
    serviceAccount: 'bookinfo-productpage',
    pod: { name: 'productpage-1', uid: 'u-1' },
    audience: 'minimesh-ca',
    expirationSeconds: 43200,
  }

  it('signs Kubernetes-shaped claims that meshd verifies with the JWKS', async () => {
    const { token, expiresAt } = issuer.issue(request)
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
    expect(claims).toMatchObject({
      iss: TOKEN_ISSUER,
      sub: 'system:serviceaccount:default:bookinfo-productpage',
      aud: ['minimesh-ca'],
      'kubernetes.io': {
        namespace: 'default',
        pod: { name: 'productpage-1', uid: 'u-1' },
        serviceaccount: { name: 'bookinfo-productpage' },
      },
    })
    expect(claims.exp - claims.iat).toBe(43200)
    expect(expiresAt).toBe(claims.exp * 1000)
    expect(await verifier.authenticate(token)).toEqual({
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
      pod: { name: 'productpage-1', uid: 'u-1' },
    })
    expect(statSync(issuer.keyFile).mode & 0o777).toBe(0o600)
  })

  it('keeps its key: a second issuer over the same dir signs tokens the first JWKS accepts', async () => {
    const jwks = readFileSync(issuer.jwksFile, 'utf8')
    const again = new ServiceAccountTokenIssuer(dir)
    expect(readFileSync(again.jwksFile, 'utf8')).toBe(jwks)
    await expect(verifier.authenticate(again.issue(request).token)).resolves.toMatchObject({
      namespace: 'default',
    })
  })

  it("refuses a token whose pod was deleted, or replaced by one with another uid, or of another cluster's key", async () => {
    const { token } = issuer.issue(request)
    pods.set('default/productpage-1', { serviceAccount: 'bookinfo-productpage', uid: 'u-2' })
    await expect(verifier.authenticate(token)).rejects.toThrow(/was replaced/)
    pods.delete('default/productpage-1')
    await expect(verifier.authenticate(token)).rejects.toThrow(
      "the token's pod default/productpage-1 does not exist",
    )
    const stranger = new ServiceAccountTokenIssuer(mkdtempSync(join(dir, 'other-')))
    await expect(verifier.authenticate(stranger.issue(request).token)).rejects.toThrow(/no key .* matches/)
  })
})
