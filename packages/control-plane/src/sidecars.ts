// Does the cluster run native sidecars (init containers with restartPolicy Always)? The injector
// places the proxy there when it does. Kubernetes' SidecarContainers feature is beta and on by
// default from 1.29 and GA in 1.33; like Istio (default since 1.27) meshd turns native placement
// on from 1.33, where every conformant cluster runs it. `--native-sidecars true|false` overrides
// (the local cluster, which runs them, says true).
import type { KubeConfig } from '@kubernetes/client-node'
import type { Logger } from 'pino'

export type NativeSidecarsSetting = 'auto' | boolean

/** The first Kubernetes version whose every cluster runs native sidecars (GA). */
const NATIVE_SIDECARS_SINCE = { major: 1, minor: 33 } as const

/** True when an API server of this version runs native sidecars; minor may be "33+" (GKE, EKS). */
export function supportsNativeSidecars(version: { major?: string; minor?: string }): boolean {
  const major = Number.parseInt(version.major ?? '', 10)
  const minor = Number.parseInt(version.minor ?? '', 10)
  if (!Number.isInteger(major) || !Number.isInteger(minor)) return false
  return (
    major > NATIVE_SIDECARS_SINCE.major ||
    (major === NATIVE_SIDECARS_SINCE.major && minor >= NATIVE_SIDECARS_SINCE.minor)
  )
}

/**
 * Resolves `auto` by asking the API server its version (GET /version) once at start; without a
 * cluster (configuration from a directory) or when the API server cannot say, classic placement.
 */
export async function resolveNativeSidecars(
  setting: NativeSidecarsSetting,
  kubeConfig: KubeConfig | undefined,
  log: Logger,
): Promise<boolean> {
  if (setting !== 'auto') return setting
  if (!kubeConfig) return false
  try {
    const { VersionApi } = await import('@kubernetes/client-node')
    const v = await kubeConfig.makeApiClient(VersionApi).getCode()
    const native = supportsNativeSidecars(v)
    log.info(
      { version: v.gitVersion, nativeSidecars: native },
      native
        ? 'injector: native sidecars (the API server runs them)'
        : 'injector: classic sidecars (the API server is older than 1.33)',
    )
    return native
  } catch (err) {
    log.warn({ err }, 'injector: cannot read the API server version; classic sidecars')
    return false
  }
}
