// The mesh certificate authority: signs workload CSRs with the mesh root (self-signed, made by
// meshd) or with a plug-in intermediate (Istio's `cacerts`). Pure over its key material: where the
// material comes from and is kept is store.ts.
import { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { ControlPlaneError } from '../errors.ts'
import {
  type CryptoKey,
  type CryptoKeyPair,
  EC_P256,
  importSigningKey,
  keyMatchesCertificate,
  keyPem,
  loadX509,
  normalizePem,
  randomSerial,
  subtle,
  type X509,
} from './x509.ts'

/** The trust domain; SPIFFE ids are `spiffe://cluster.local/ns/<ns>/sa/<sa>`. */
const TRUST_DOMAIN = 'cluster.local'

export function spiffeId(namespace: string, serviceAccount: string, trustDomain = TRUST_DOMAIN): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`
}

/** What a CA signs with, all PEM. */
export interface CaMaterial {
  /** The signing certificate: the root itself, or a plug-in intermediate (`ca-cert.pem`). */
  certPem: string
  /** Its private key (`ca-key.pem`). */
  keyPem: string
  /** Certificates above the signing one up to the root (`cert-chain.pem` minus ca-cert; may be empty). */
  chainPem: string[]
  /** The mesh root(s) workloads trust (`root-cert.pem`). */
  rootPem: string
}

export interface SignOptions {
  /** The caller's SPIFFE id (from its token): the certificate's only SAN. */
  spiffeId: string
  ttlSeconds: number
}

export interface IssuedServingCertificate {
  /** Leaf first, then the intermediates (the root is not sent: peers have it). */
  certChainPem: string
  keyPem: string
  notAfter: Date
}

const MINUTE = 60_000

/** The issuer's own subject key id when it has one (verifiers match AKI to SKI), else one from its key. */
async function authorityKeyId(
  x509: X509,
  issuer: InstanceType<X509['X509Certificate']>,
): Promise<InstanceType<X509['AuthorityKeyIdentifierExtension']>> {
  const ski = issuer.getExtension(x509.SubjectKeyIdentifierExtension)
  return ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)
    : x509.AuthorityKeyIdentifierExtension.create(issuer, false)
}

/** A self-signed ECDSA P-256 root for the mesh (Istio's self-signed CA: O=<trust domain>, 10 years). */
export async function generateRoot(
  options: { validityDays?: number; trustDomain?: string } = {},
): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509()
  const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `O=${options.trustDomain ?? TRUST_DOMAIN}, CN=minimesh root CA`,
    notBefore: new Date(now - 5 * MINUTE),
    notAfter: new Date(now + (options.validityDays ?? 3650) * 86_400_000),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false),
    ],
  })
  return { certPem: normalizePem(cert.toString('pem')), keyPem: await keyPem(keys.privateKey) }
}

const fail = (code: 'MESH_ERR_CA_PLUGIN', message: string): never => {
  throw new ControlPlaneError(code, message)
}

/**
 * Checks CA material as Istio checks `cacerts`: the key belongs to the signing certificate, which
 * is a CA; every certificate of the chain is signed by the next; the chain ends at a root of
 * `rootPem`. Throws MESH_ERR_CA_PLUGIN naming the file at fault.
 */
function checkMaterial(m: CaMaterial): void {
  const parse = (pem: string, what: string) => {
    try {
      return new X509Certificate(pem)
    } catch (err) {
      return fail('MESH_ERR_CA_PLUGIN', `${what} is not a PEM certificate: ${(err as Error).message}`)
    }
  }
  const cert = parse(m.certPem, 'ca-cert.pem')
  if (!cert.ca) fail('MESH_ERR_CA_PLUGIN', 'ca-cert.pem is not a CA certificate (basicConstraints CA:FALSE)')
  try {
    if (!keyMatchesCertificate(m.keyPem, cert))
      fail('MESH_ERR_CA_PLUGIN', 'ca-key.pem is not the private key of ca-cert.pem')
  } catch (err) {
    if (err instanceof ControlPlaneError) throw err
    fail('MESH_ERR_CA_PLUGIN', `ca-key.pem is not a usable private key: ${(err as Error).message}`)
  }
  const roots = [...m.rootPem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map(
    (r) => parse(r[0], 'root-cert.pem'),
  )
  if (roots.length === 0) fail('MESH_ERR_CA_PLUGIN', 'root-cert.pem holds no certificate')
  const path = [cert, ...m.chainPem.map((p) => parse(p, 'cert-chain.pem'))]
  for (let i = 0; i + 1 < path.length; i++) {
    const [child, parent] = [path[i]!, path[i + 1]!]
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey))
      fail(
        'MESH_ERR_CA_PLUGIN',
        `cert-chain.pem: "${child.subject.replaceAll('\n', ', ')}" is not signed by "${parent.subject.replaceAll('\n', ', ')}"`,
      )
  }
  const top = path.at(-1)!
  const anchored = roots.some(
    (r) => r.fingerprint256 === top.fingerprint256 || (top.checkIssued(r) && top.verify(r.publicKey)),
  )
  if (!anchored)
    fail(
      'MESH_ERR_CA_PLUGIN',
      `the chain from ca-cert.pem ("${top.subject.replaceAll('\n', ', ')}") does not end at root-cert.pem`,
    )
  if (Date.parse(cert.validTo) < Date.now())
    fail('MESH_ERR_CA_PLUGIN', `ca-cert.pem expired on ${cert.validTo}`)
}

export class CertificateAuthority {
  readonly material: CaMaterial
  /** The mesh roots (PEM) workloads trust: the injector's `caRootCert`, proxies' MESH_CA_ROOT_CERT. */
  readonly rootsPem: string
  /** The signing certificate, its chain and the root, de-duplicated: what follows every leaf. */
  readonly chain: readonly string[]
  readonly notAfter: Date
  readonly rootNotAfter: Date
  /** True when signing with a plug-in intermediate rather than meshd's own root. */
  readonly plugin: boolean
  private readonly signingKey: CryptoKey
  private readonly signingAlgorithm: { name: string; hash: string }
  private readonly cert: X509Certificate

  private constructor(
    material: CaMaterial,
    plugin: boolean,
    key: { key: CryptoKey; algorithm: { name: string; hash: string } },
  ) {
    this.material = material
    this.plugin = plugin
    this.cert = new X509Certificate(material.certPem)
    this.signingKey = key.key
    this.signingAlgorithm = key.algorithm
    const roots = [
      ...material.rootPem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g),
    ].map((m) => normalizePem(m[0]))
    this.rootsPem = roots.join('')
    const chain: string[] = []
    for (const pem of [material.certPem, ...material.chainPem].map(normalizePem))
      if (!chain.includes(pem)) chain.push(pem)
    // The root that anchors the chain goes last (once), so a verifier has the whole path.
    const top = new X509Certificate(chain.at(-1)!)
    const anchor = roots.find((r) => {
      const root = new X509Certificate(r)
      return (
        root.fingerprint256 === top.fingerprint256 || (top.checkIssued(root) && top.verify(root.publicKey))
      )
    })
    if (anchor && !chain.includes(anchor)) chain.push(anchor)
    this.chain = chain
    this.notAfter = new Date(this.cert.validTo)
    this.rootNotAfter = new Date(new X509Certificate(anchor ?? chain.at(-1)!).validTo)
  }

  /** A CA over checked material (see checkMaterial). */
  static async create(
    material: CaMaterial,
    options: { plugin?: boolean } = {},
  ): Promise<CertificateAuthority> {
    checkMaterial(material)
    return new CertificateAuthority(
      material,
      options.plugin ?? false,
      await importSigningKey(material.keyPem),
    )
  }

  /**
   * Signs a workload CSR: checks its signature, refuses any SAN other than `spiffeId`
   * (MESH_ERR_CA_IDENTITY), and issues a leaf whose only SAN is `spiffeId` (critical, empty
   * subject), digitalSignature + keyEncipherment, serverAuth + clientAuth, for `ttlSeconds` (never
   * past the signing certificate). Returns the chain: leaf, intermediates, root last.
   */
  async sign(csrPem: string, options: SignOptions): Promise<string[]> {
    const x509 = await loadX509()
    let csr: InstanceType<X509['Pkcs10CertificateRequest']>
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem)
    } catch (err) {
      throw new ControlPlaneError('MESH_ERR_CA_CSR', `the CSR cannot be parsed: ${(err as Error).message}`, {
        cause: err,
      })
    }
    let valid = false
    try {
      valid = await csr.verify()
    } catch (err) {
      throw new ControlPlaneError(
        'MESH_ERR_CA_CSR',
        `the CSR's key is not supported: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
    if (!valid) throw new ControlPlaneError('MESH_ERR_CA_CSR', "the CSR's signature does not verify")
    const sans = csr.getExtensions('2.5.29.17').flatMap((e) =>
      new x509.SubjectAlternativeNameExtension(e.rawData).names.items.map((n) => ({
        type: n.type,
        value: n.value,
      })),
    )
    const other = sans.find((n) => n.type !== 'url' || n.value !== options.spiffeId)
    if (other)
      throw new ControlPlaneError(
        'MESH_ERR_CA_IDENTITY',
        `the CSR asks for ${other.type === 'url' ? other.value : `${other.type}:${other.value}`} but the caller is ${options.spiffeId}`,
      )
    const now = Date.now()
    const notAfter = new Date(Math.min(now + options.ttlSeconds * 1000, this.notAfter.getTime()))
    const issuer = new x509.X509Certificate(this.material.certPem)
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: '',
      issuer: issuer.subjectName,
      notBefore: new Date(now - MINUTE),
      notAfter,
      publicKey: csr.publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: this.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          x509.ExtendedKeyUsage.serverAuth,
          x509.ExtendedKeyUsage.clientAuth,
        ]),
        await authorityKeyId(x509, issuer),
        new x509.SubjectAlternativeNameExtension([{ type: 'url', value: options.spiffeId }], true),
      ],
    })
    return [normalizePem(leaf.toString('pem')), ...this.chain]
  }

  /** meshd's own serving certificate (15012): a fresh P-256 key, DNS and IP SANs. */
  async issueServing(options: { names: string[]; ttlSeconds: number }): Promise<IssuedServingCertificate> {
    const x509 = await loadX509()
    const keys = (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair
    const now = Date.now()
    const notAfter = new Date(Math.min(now + options.ttlSeconds * 1000, this.notAfter.getTime()))
    const names = [...new Set(options.names)]
    const issuer = new x509.X509Certificate(this.material.certPem)
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: `CN=${names.find((n) => isIP(n) === 0) ?? 'meshd'}`,
      issuer: issuer.subjectName,
      notBefore: new Date(now - MINUTE),
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.signingKey,
      signingAlgorithm: this.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await authorityKeyId(x509, issuer),
        new x509.SubjectAlternativeNameExtension(
          names.map((value) => ({ type: isIP(value) ? ('ip' as const) : ('dns' as const), value })),
        ),
      ],
    })
    const intermediates = this.chain.filter((p) => !this.rootsPem.includes(p.trim()))
    return {
      certChainPem: [normalizePem(cert.toString('pem')), ...intermediates].join(''),
      keyPem: await keyPem(keys.privateKey),
      notAfter,
    }
  }
}
