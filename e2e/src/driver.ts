/**
 * The one interface the e2e scenarios use; two implementations: the Kubernetes driver (kind, a
 * real Kubernetes in Docker, or kube/cluster.sh's single-node cluster of upstream components run as
 * host processes) and the local driver (pods as network namespaces on this host).
 */
export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

export interface JobStatus {
  active?: number
  succeeded?: number
  failed?: number
  conditions?: { type: string; status: string; reason?: string }[]
}

export interface PodRef {
  namespace: string
  name: string
}

export interface ClusterDriver {
  readonly name: 'kind' | 'kube' | 'local'
  /** Brings the cluster up with minimesh installed (or reuses it), ready for Bookinfo. */
  setup(): Promise<void>
  /** Applies YAML text (multi-document); rejects with the server's / webhook's message when refused. */
  apply(yaml: string, namespace?: string): Promise<void>
  /** Deletes what the YAML names; objects already gone are fine. */
  delete(yaml: string, namespace?: string): Promise<void>
  /** Pods matching a label selector (`app=reviews,version=v2`) in a namespace. */
  pods(namespace: string, selector: string): Promise<PodRef[]>
  /** Runs a command in a pod's container (the app container unless `container` is given). */
  exec(pod: PodRef, argv: string[], container?: string): Promise<ExecResult>
  /** Base URL of the ingress gateway as seen from the test process, e.g. http://127.0.0.1:8080. */
  gatewayUrl(): Promise<string>
  /** Waits until every pod matching the selector is Ready (all containers), or throws after timeoutMs. */
  waitReady(namespace: string, selector: string, timeoutMs?: number): Promise<void>
  /** A container's logs. */
  logs(pod: PodRef, container?: string): Promise<string>
  /** Fetches a URL from inside a meshed pod's network (its sidecar captures the request). */
  fetchFromPod(
    pod: PodRef,
    url: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: string }>
  /** Waits until every connected proxy has ACKed the control plane's newest configuration. */
  waitConfigPropagated(timeoutMs?: number): Promise<void>
  /** Sends `count` GETs from inside a meshed pod, `concurrency` at a time (one process, real concurrency). */
  loadFromPod(
    pod: PodRef,
    url: string,
    count: number,
    concurrency: number,
  ): Promise<{ status: number; body: string }[]>
  /** Restarts the control plane (meshd), e.g. to show traffic survives it. */
  restartControlPlane(): Promise<void>
  /** Reads a proxy's Prometheus text from its port 15020 /stats/prometheus. */
  proxyMetrics(pod: PodRef): Promise<string>
  /** A Job's status (active, succeeded, failed, conditions), or undefined when there is none. */
  jobStatus(namespace: string, name: string): Promise<JobStatus | undefined>
  /** Triggers a rolling restart of a Deployment (`kubectl rollout restart`). */
  rolloutRestart(namespace: string, name: string): Promise<void>
  /** Runs meshctl (a process, as a user would) against this cluster: `get vs`, `apply -f …`. */
  meshctl(args: string[]): Promise<ExecResult>
  /** Leaves the cluster as setup found it (local: down; kind: keeps the cluster for reuse). */
  teardown(): Promise<void>
}
