import { BookinfoError } from '@minimesh/bookinfo-common'

/**
 * Istio's ratings variants, chosen by `SERVICE_VERSION`:
 * - `v1`: always answers;
 * - `v-faulty`: 503 half of the time;
 * - `v-delayed`: answers after a delay (7 s by default) half of the time;
 * - `v-unavailable`: always 503.
 */
export const SERVICE_VERSIONS = ['v1', 'v-faulty', 'v-delayed', 'v-unavailable'] as const
export type ServiceVersion = (typeof SERVICE_VERSIONS)[number]

/** What to do with one GET of the ratings. */
export type Behaviour =
  | { readonly kind: 'answer' }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'delay' }

/** The chance that v-faulty fails and v-delayed delays a request. */
export const FAULT_PROBABILITY = 0.5

/** Decides one request's fate; `random` returns a number in [0, 1) (Math.random in production). */
export function behaviourFor(version: ServiceVersion, random: () => number): Behaviour {
  switch (version) {
    case 'v1':
      return { kind: 'answer' }
    case 'v-unavailable':
      return { kind: 'unavailable' }
    case 'v-faulty':
      return random() < FAULT_PROBABILITY ? { kind: 'unavailable' } : { kind: 'answer' }
    case 'v-delayed':
      return random() < FAULT_PROBABILITY ? { kind: 'delay' } : { kind: 'answer' }
  }
}

/** Reads `SERVICE_VERSION` (default v1); an unknown one is a config error listing the known ones. */
export function parseServiceVersion(value: string | undefined): ServiceVersion {
  const version = value?.trim() || 'v1'
  if (!(SERVICE_VERSIONS as readonly string[]).includes(version)) {
    throw new BookinfoError(
      'MESH_ERR_BOOKINFO_CONFIG',
      `SERVICE_VERSION=${version} is not one of ${SERVICE_VERSIONS.join(', ')}`,
    )
  }
  return version as ServiceVersion
}
