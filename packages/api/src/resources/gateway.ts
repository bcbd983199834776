import { ApiErrorCode } from '../errors.ts'
import {
  array,
  boolean,
  type Context,
  type FieldPath,
  type Infer,
  integer,
  object,
  optional,
  record,
  string,
} from '../schema/index.ts'
import { defineKind, NETWORKING_ISTIO_IO, type Resource } from './common.ts'

/** Istio's TLS protocol versions, lowest first (TLS_AUTO: the proxy's default range). */
export const TLS_PROTOCOL_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const
export type TlsProtocolVersion = (typeof TLS_PROTOCOL_VERSIONS)[number]

const TLS_MODES = [
  'PASSTHROUGH',
  'SIMPLE',
  'MUTUAL',
  'AUTO_PASSTHROUGH',
  'ISTIO_MUTUAL',
  'OPTIONAL_MUTUAL',
] as const
/** Why a mode is not implemented (SIMPLE and MUTUAL are). */
const UNIMPLEMENTED_MODES: Record<string, string> = {
  PASSTHROUGH: 'SNI routing of TLS passed through to the destination (protocol TLS) is not implemented',
  AUTO_PASSTHROUGH: 'SNI routing of TLS passed through to the destination (protocol TLS) is not implemented',
  ISTIO_MUTUAL: 'gateway servers with the mesh certificate are not implemented',
  OPTIONAL_MUTUAL: 'an optional client certificate is not implemented',
}

const tlsVersion = string({ enum: TLS_PROTOCOL_VERSIONS })

/**
 * Istio's ServerTLSSettings, the part minimesh implements: TLS terminated at the gateway with the
 * certificate of a Kubernetes Secret (`credentialName`, in the gateway proxy's namespace:
 * `tls.crt`/`tls.key`, and for MUTUAL `ca.crt` or a `<credentialName>-cacert` Secret), and
 * `httpsRedirect` on plaintext servers. Certificates from files in the gateway pod are not.
 */
const serverTls = object(
  {
    /** On a plaintext (HTTP) server: answer every request with a 301 to the same URL over https. */
    httpsRedirect: optional(boolean()),
    /** Unset reads as PASSTHROUGH (Istio's default). */
    mode: optional(
      string({
        enum: TLS_MODES,
        check(v, path, ctx) {
          const why = UNIMPLEMENTED_MODES[v]
          if (why)
            ctx.report(
              path,
              ApiErrorCode.Unimplemented,
              `tls mode ${v} is not implemented by minimesh: ${why} (use SIMPLE or MUTUAL with credentialName)`,
            )
        },
      }),
    ),
    /** A Secret in the gateway proxy's namespace (tls.crt, tls.key; ca.crt for MUTUAL). */
    credentialName: optional(
      string({ pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, patternHint: 'a Secret name' }),
    ),
    /** MUTUAL: the client certificate must carry one of these subject alternative names. */
    subjectAltNames: optional(array(string(), { minItems: 1 })),
    minProtocolVersion: optional(tlsVersion),
    maxProtocolVersion: optional(tlsVersion),
  },
  {
    unimplemented: [
      'serverCertificate',
      'privateKey',
      'caCertificates',
      'caCrl',
      'credentialNames',
      'tlsCertificates',
      'verifyCertificateSpki',
      'verifyCertificateHash',
      'cipherSuites',
    ],
    check: checkServerTls,
  },
)

interface TlsFields {
  httpsRedirect?: boolean
  mode?: string
  credentialName?: string
  subjectAltNames?: string[]
  minProtocolVersion?: TlsProtocolVersion
  maxProtocolVersion?: TlsProtocolVersion
}

function checkServerTls(t: TlsFields, path: FieldPath, ctx: Context): void {
  if ((t.mode === 'SIMPLE' || t.mode === 'MUTUAL') && !t.credentialName)
    ctx.report(
      [...path, 'credentialName'],
      ApiErrorCode.Required,
      `field "credentialName" is required when mode is ${t.mode} (minimesh reads certificates from Secrets only)`,
    )
  if (t.subjectAltNames && t.mode !== 'MUTUAL')
    ctx.report(
      [...path, 'subjectAltNames'],
      ApiErrorCode.Unimplemented,
      'subjectAltNames verify client certificates: they need mode MUTUAL',
    )
  const rank = (v: TlsProtocolVersion | undefined) =>
    v === undefined || v === 'TLS_AUTO' ? undefined : TLS_PROTOCOL_VERSIONS.indexOf(v)
  const lo = rank(t.minProtocolVersion)
  const hi = rank(t.maxProtocolVersion)
  if (lo !== undefined && hi !== undefined && lo > hi)
    ctx.report(
      [...path, 'maxProtocolVersion'],
      ApiErrorCode.Range,
      `maxProtocolVersion ${t.maxProtocolVersion} is below minProtocolVersion ${t.minProtocolVersion}`,
    )
}

const server = object(
  {
    port: object(
      {
        number: integer({ min: 1, max: 65535 }),
        name: optional(string()),
        protocol: string({
          enum: ['HTTP', 'HTTPS', 'HTTP2', 'TCP', 'TLS'] as const,
          check(v, path, ctx) {
            if (v === 'TLS')
              ctx.report(
                path,
                ApiErrorCode.Unimplemented,
                'protocol TLS (SNI routing of TLS passed through) is not implemented by minimesh: use HTTPS with tls.mode SIMPLE or MUTUAL',
              )
          },
        }),
      },
      { unimplemented: ['targetPort'] },
    ),
    hosts: array(string(), { minItems: 1 }),
    name: optional(string()),
    tls: optional(serverTls),
  },
  { unimplemented: ['bind', 'defaultEndpoint'], check: checkServer },
)

/** Which protocols take which TLS settings. */
function checkServer(
  s: { port: { protocol: string }; tls?: TlsFields },
  path: FieldPath,
  ctx: Context,
): void {
  const protocol = s.port.protocol
  if (protocol === 'TLS') return
  const mode = s.tls?.mode
  if (protocol === 'HTTPS') {
    if (!s.tls)
      ctx.report(
        [...path, 'tls'],
        ApiErrorCode.Required,
        'field "tls" is required for protocol HTTPS (mode SIMPLE or MUTUAL with credentialName)',
      )
    else if (mode === undefined)
      ctx.report(
        [...path, 'tls', 'mode'],
        ApiErrorCode.Unimplemented,
        'tls mode unset means PASSTHROUGH in Istio, which minimesh does not implement: set mode SIMPLE or MUTUAL',
      )
    if (s.tls?.httpsRedirect)
      ctx.report(
        [...path, 'tls', 'httpsRedirect'],
        ApiErrorCode.Unimplemented,
        'httpsRedirect redirects plaintext requests: it belongs on a server with protocol HTTP',
      )
    return
  }
  if (mode !== undefined)
    ctx.report(
      [...path, 'tls', 'mode'],
      ApiErrorCode.Unimplemented,
      `tls mode ${mode} on protocol ${protocol}: minimesh terminates TLS only on servers with protocol HTTPS`,
    )
  if (protocol === 'TCP' && s.tls?.httpsRedirect)
    ctx.report(
      [...path, 'tls', 'httpsRedirect'],
      ApiErrorCode.Unimplemented,
      'httpsRedirect needs protocol HTTP or HTTP2',
    )
  const extra = (
    ['credentialName', 'subjectAltNames', 'minProtocolVersion', 'maxProtocolVersion'] as const
  ).filter((f) => s.tls?.[f] !== undefined)
  for (const f of extra)
    ctx.report([...path, 'tls', f], ApiErrorCode.Unimplemented, `tls.${f} needs protocol HTTPS`)
}

export const gatewaySpec = object({
  selector: optional(record(string())),
  servers: array(server, { minItems: 1 }),
})

export type GatewaySpec = Infer<typeof gatewaySpec>
export type GatewayServer = Infer<typeof server>
export type ServerTlsSettings = Infer<typeof serverTls>
export type Gateway = Resource<GatewaySpec, 'Gateway'>

export const GatewayKind = defineKind({
  ...NETWORKING_ISTIO_IO,
  kind: 'Gateway',
  plural: 'gateways',
  singular: 'gateway',
  shortNames: ['gw'],
  spec: gatewaySpec,
})
