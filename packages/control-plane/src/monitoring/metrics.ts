import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** meshd's Prometheus metrics (names after Istio's pilot_* ones, under meshd_). */
export class Metrics {
  readonly registry = new Registry()
  /** Responses written, by type. */
  readonly pushes = new Counter({
    name: 'meshd_xds_pushes_total',
    help: 'Discovery responses sent to proxies, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  })
  /** From the first configuration event of a change to a response being written. */
  readonly pushTime = new Histogram({
    name: 'meshd_xds_push_time_seconds',
    help: 'Time from a configuration change to the response carrying it being written to a proxy.',
    labelNames: ['type'] as const,
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
    registers: [this.registry],
  })
  /** From the first configuration event of a change to the proxy's ACK. */
  readonly convergence = new Histogram({
    name: 'meshd_proxy_convergence_seconds',
    help: 'Time from a configuration change to the proxy acknowledging it.',
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30],
    registers: [this.registry],
  })
  readonly nacks = new Counter({
    name: 'meshd_xds_rejects_total',
    help: 'Responses proxies rejected (NACK), by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  })
  readonly connected = new Gauge({
    name: 'meshd_xds_connected_proxies',
    help: 'Proxies with an open discovery stream.',
    registers: [this.registry],
  })
  readonly configErrors = new Gauge({
    name: 'meshd_config_errors',
    help: 'Configuration objects rejected (failed validation or analysis) in the current snapshot, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  })
  readonly rejections = new Counter({
    name: 'meshd_config_rejections_total',
    help: 'Rejections of configuration objects (each bad version counted once), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  })
  readonly statusWrites = new Counter({
    name: 'meshd_status_writes_total',
    help: 'Resource status writes to the API server, by result (written, gone, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })
  readonly rebuild = new Histogram({
    name: 'meshd_snapshot_rebuild_seconds',
    help: 'Time to build a configuration snapshot.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2],
    registers: [this.registry],
  })
  readonly snapshots = new Counter({
    name: 'meshd_snapshots_total',
    help: 'Configuration snapshots built.',
    registers: [this.registry],
  })

  /** The certificate service (names after Istio's citadel_server_* ones). */
  readonly caRequests = new Counter({
    name: 'meshd_ca_csr_total',
    help: 'Certificate signing requests received by the mesh CA.',
    registers: [this.registry],
  })
  readonly caIssued = new Counter({
    name: 'meshd_ca_certificates_issued_total',
    help: 'Workload certificates issued by the mesh CA.',
    registers: [this.registry],
  })
  readonly caRefused = new Counter({
    name: 'meshd_ca_refusals_total',
    help: 'Certificate requests refused, by reason (unauthenticated, identity_mismatch, bad_csr, not_tls, internal).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  })
  readonly caRootExpiry = new Gauge({
    name: 'meshd_ca_root_cert_expiry_timestamp',
    help: 'When the root the mesh CA chains to expires (Unix seconds).',
    registers: [this.registry],
  })
  readonly caCertExpiry = new Gauge({
    name: 'meshd_ca_cert_expiry_timestamp',
    help: 'When the certificate the mesh CA signs with (root or plug-in intermediate) expires (Unix seconds).',
    registers: [this.registry],
  })

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry })
  }
}
