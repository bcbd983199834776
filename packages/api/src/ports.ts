// `@minimesh/api/ports`: the sidecar's port and uid contract, written once. The injector chooses
// the ports of a pod (these are its defaults; InjectConfig may change any but admin) and hands
// them to both ends: mesh-init's flags (where iptables redirects, what it leaves alone) and
// mesh-proxy's flags (where it binds). meshd always describes the capture listeners on the
// default ports (Istio's xDS does the same); a proxy told other ports binds them there instead.
// Istio's numbers (DESIGN.md "Ports, ids, names"), so what people know carries over.
// No imports: mesh-proxy and mesh-init load it at start for nothing.

/**
 * The uid the proxy runs as (the injector's `runAsUser`, the gateway's and meshd's in the install
 * manifests). mesh-init never captures this uid's traffic (`-u`), which is how the proxy's own
 * connections leave the pod instead of looping back into it.
 */
export const PROXY_UID = 1337

/** The proxy's gid (`runAsGroup`); mesh-init never captures it either (`-g`). */
export const PROXY_GID = 1337

/**
 * Admin (`/config_dump`, `/clusters`, `/stats`, POST `/quitquitquit`), bound by mesh-proxy on
 * 127.0.0.1 only (`--admin-port`). Read by `meshctl proxy-config` and `describe` through a
 * port-forward. Not configurable by the injector: loopback traffic is never captured.
 */
export const PROXY_ADMIN_PORT = 15000

/**
 * Outbound capture: mesh-init's `-p` redirects the app's outbound TCP here; mesh-proxy binds meshd's
 * `virtualOutbound` listener here (`--outbound-port`). meshd's translator sends that listener with
 * this port.
 */
export const OUTBOUND_CAPTURE_PORT = 15001

/**
 * Inbound capture: mesh-init's `-z` redirects TCP to the pod here; mesh-proxy binds meshd's
 * `virtualInbound` listener here (`--inbound-port`). meshd's translator sends that listener with
 * this port.
 */
export const INBOUND_CAPTURE_PORT = 15006

/**
 * Status: the Prometheus metrics that the prometheus.io/* annotations and the dashboard scrape
 * (`/stats/prometheus`; where Istio merges in the app's own metrics, minimesh serves the proxy's),
 * the rewritten app probes (`/app-health/…`), readiness, POST `/quitquitquit` from the pod's
 * loopback. Bound by mesh-proxy on the pod's address
 * (`--stats-port`); the injector points app probes here; never captured (mesh-init `-d`).
 */
export const PROXY_STATUS_PORT = 15020

/**
 * Health: `/healthz/ready`, bound by mesh-proxy on the pod's address (`--health-port`). The
 * sidecar's readiness and startup probes and `mesh-proxy wait` (postStart) ask it, and so does the
 * gateway Service's status-port; never captured (mesh-init `-d`).
 */
export const PROXY_HEALTH_PORT = 15021

/**
 * The proxy's own Prometheus stats (`/stats/prometheus`, Envoy's 15090), bound by mesh-proxy on the
 * pod's address (`--prom-port`), declared as the container port `mesh-prom`; never captured
 * (mesh-init `-d`).
 */
export const PROXY_PROMETHEUS_PORT = 15090

/** Container port names of the sidecar's and gateway's ports on the pod address. */
export const PROXY_PORT_NAMES = Object.freeze({
  status: 'mesh-metrics',
  health: 'mesh-health',
  prometheus: 'mesh-prom',
} as const)

/**
 * The proxy's own ports on the pod address, which inbound capture must leave alone whatever it is
 * told (mesh-init always adds them to `-d`; the injector passes the ones it chose).
 */
export const PROXY_INBOUND_PORTS: readonly number[] = Object.freeze([
  PROXY_PROMETHEUS_PORT,
  PROXY_HEALTH_PORT,
  PROXY_STATUS_PORT,
])
