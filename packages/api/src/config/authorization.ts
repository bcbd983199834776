// Authorization as the proxy evaluates it: the AuthorizationPolicies that apply to a workload,
// compiled by the control plane into DENY, ALLOW and AUDIT groups of flat matches (one match per
// policy field or condition: an attribute, its values, and whether it is negated), so the proxy
// only builds a matcher per match and evaluates them in Istio's order without reading policies.
import { array, boolean, type Infer, integer, object, optional, string } from '../schema/index.ts'

/** One value matcher: exact, prefix (`abc*`), suffix (`*abc`), or presence (`*`: any non-empty value). */
export const authzString = object(
  {
    exact: optional(string()),
    prefix: optional(string()),
    suffix: optional(string()),
    presence: optional(boolean()),
  },
  { oneOf: ['exact', 'prefix', 'suffix', 'presence'], oneOfRequired: true },
)
export type AuthzString = Infer<typeof authzString>

/**
 * Attributes a match reads. `request.*` ones exist only for HTTP: on a TCP connection a rule of
 * an ALLOW policy that uses one never matches, and in DENY and AUDIT policies such a match is
 * left out (Istio: an ALLOW gets narrower, a DENY wider).
 */
export const AUTHZ_ATTRIBUTES = [
  'source.principal',
  'source.namespace',
  'source.ip',
  'remote.ip',
  'destination.ip',
  'destination.port',
  'connection.sni',
  'request.host',
  'request.method',
  'request.path',
  'request.headers',
] as const
export type AuthzAttribute = (typeof AUTHZ_ATTRIBUTES)[number]

/**
 * `attribute` matches one of the values (`strings`, or `cidrs` for addresses, or `ports`);
 * `not`: it matches none of them (an absent attribute matches no value, so `not` holds).
 */
export const authzMatch = object({
  attribute: string({ enum: AUTHZ_ATTRIBUTES }),
  /** For `request.headers`: the header name, lower case. */
  header: optional(string()),
  not: optional(boolean()),
  strings: optional(array(authzString)),
  /** Normalised CIDR blocks (`10.0.0.0/8`, `198.18.0.7/32`, `fd00::/8`). */
  cidrs: optional(array(string())),
  ports: optional(array(integer({ min: 1, max: 65535 }))),
})
export type AuthzMatch = Infer<typeof authzMatch>

/**
 * A rule: `from` (any one source, each a list of matches that must all hold), `to` (likewise,
 * operations) and `when` (all must hold). An absent part matches anything; a rule with none
 * (`{}`) matches every request.
 */
export const authzRule = object({
  from: optional(array(array(authzMatch))),
  to: optional(array(array(authzMatch))),
  when: optional(array(authzMatch)),
})
export type AuthzRule = Infer<typeof authzRule>

/** A policy: `<namespace>/<name>` and its rules (any one matches; none: the policy matches nothing). */
export const authzPolicy = object({ name: string(), rules: array(authzRule) })
export type AuthzPolicy = Infer<typeof authzPolicy>

/**
 * The policies that apply to one workload, by action. Evaluation (Istio's): a matching DENY
 * policy denies; AUDIT policies that match are logged; when there are ALLOW policies one must
 * match, else the request is denied; otherwise it is allowed.
 */
export const authorization = object({
  deny: optional(array(authzPolicy)),
  allow: optional(array(authzPolicy)),
  audit: optional(array(authzPolicy)),
})
export type Authorization = Infer<typeof authorization>
