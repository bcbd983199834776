import { defineCodes, MeshError } from './coded-error.ts'
import { type Finding, formatFinding } from './finding.ts'

/**
 * The catalogue of @minimesh/api: stable codes of findings and errors (none has an HTTP status of its
 * own; each boundary answers for all of them). Callers match on `code`, never on message text.
 */
export const ApiErrorCode = {
  /** A field minimesh does not know at all. */
  UnknownField: 'MESH_ERR_API_UNKNOWN_FIELD',
  /** A field Istio defines that minimesh does not implement (never silently ignored). */
  Unimplemented: 'MESH_ERR_API_UNIMPLEMENTED',
  Type: 'MESH_ERR_API_TYPE',
  Required: 'MESH_ERR_API_REQUIRED',
  Duration: 'MESH_ERR_API_DURATION',
  Regex: 'MESH_ERR_API_REGEX',
  Range: 'MESH_ERR_API_RANGE',
  Enum: 'MESH_ERR_API_ENUM',
  Pattern: 'MESH_ERR_API_PATTERN',
  Weight: 'MESH_ERR_API_WEIGHT',
  Duplicate: 'MESH_ERR_API_DUPLICATE',
  OneOf: 'MESH_ERR_API_ONE_OF',
  Expression: 'MESH_ERR_API_EXPRESSION',
  Kind: 'MESH_ERR_API_KIND',
  Yaml: 'MESH_ERR_API_YAML',
  // analysis (cross-resource)
  UnknownSubset: 'MESH_ERR_API_UNKNOWN_SUBSET',
  UnknownHost: 'MESH_ERR_API_UNKNOWN_HOST',
  ConflictingVirtualServices: 'MESH_ERR_API_CONFLICTING_VIRTUAL_SERVICES',
  UnreachableOverride: 'MESH_ERR_API_UNREACHABLE_OVERRIDE',
  /** A QuotaPolicy host outside the policy's namespace (a policy applies only to its own namespace). */
  QuotaHostNamespace: 'MESH_ERR_API_QUOTA_HOST_NAMESPACE',
  UnknownGateway: 'MESH_ERR_API_UNKNOWN_GATEWAY',
  /** An address block that is not an IP address or CIDR (AuthorizationPolicy ipBlocks, when values). */
  Cidr: 'MESH_ERR_API_CIDR',
  /** An AuthorizationPolicy `when` key minimesh does not know. */
  ConditionKey: 'MESH_ERR_API_CONDITION_KEY',
  /** A workload selector that selects no workload among the inputs (AuthorizationPolicy, PeerAuthentication). */
  NoMatchingWorkload: 'MESH_ERR_API_NO_MATCHING_WORKLOAD',
  /** A Gateway server's credentialName Secret is not among the inputs. */
  UnknownSecret: 'MESH_ERR_API_UNKNOWN_SECRET',
  /** A client's DestinationRule turns TLS off towards workloads whose PeerAuthentication is STRICT. */
  MtlsConflict: 'MESH_ERR_API_MTLS_CONFLICT',
} as const
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode]

/** An error of @minimesh/api: `code` is one of ApiErrorCode (findings carry the same codes). */
export class ApiError extends MeshError {}

/** Thrown when a resource is invalid; carries every finding. */
export class ValidationError extends ApiError {
  readonly findings: readonly Finding[]
  constructor(findings: readonly Finding[]) {
    super(findings[0]?.code ?? ApiErrorCode.Type, findings.map((f) => formatFinding(f)).join('\n'))
    this.name = 'ValidationError'
    this.findings = findings
  }
}

/** The codes of the kubeconfig loader (@minimesh/api/kubeconfig). */
export const KUBECONFIG_CODES = defineCodes({
  /** No explicit file, no KUBECONFIG file that exists, no ~/.kube/config, not in a pod. */
  MESH_ERR_KUBECONFIG_NONE: {},
  /** A kubeconfig file that cannot be read or parsed. */
  MESH_ERR_KUBECONFIG_UNREADABLE: {},
  /** The requested context is not in the kubeconfig. */
  MESH_ERR_KUBECONFIG_CONTEXT: {},
  /** The (current or requested) context names no cluster. */
  MESH_ERR_KUBECONFIG_NO_CLUSTER: {},
})
export type KubeConfigErrorCode = keyof typeof KUBECONFIG_CODES

export class KubeConfigError extends MeshError<KubeConfigErrorCode> {
  static override readonly codes = KUBECONFIG_CODES
  /** The file that could not be read (MESH_ERR_KUBECONFIG_UNREADABLE). */
  readonly file?: string
  /** The contexts the kubeconfig has (MESH_ERR_KUBECONFIG_CONTEXT). */
  readonly contexts?: string[]
  /** What was looked for (MESH_ERR_KUBECONFIG_NONE): `KUBECONFIG is not set and … does not exist`. */
  readonly searched?: string

  constructor(
    code: KubeConfigErrorCode,
    message: string,
    options: { cause?: unknown; file?: string; contexts?: string[]; searched?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause })
    if (options.file !== undefined) this.file = options.file
    if (options.contexts !== undefined) this.contexts = options.contexts
    if (options.searched !== undefined) this.searched = options.searched
  }
}
