// Tracing in the install: meshd gets --trace-* (its injector passes them to every sidecar as
// MESH_TRACE_*), and the ingress gateway, which is not injected, gets the same MESH_TRACE_* env.
import type { Container, Deployment, KubeObject } from '@minimesh/api/kube'

/** meshctl install / manifest generate: the tracing flags (option table entries). */
export const TRACING_FLAGS = {
  'trace-collector': {
    type: 'string',
    arg: 'URL',
    help:
      'every proxy sends spans there (Zipkin http://HOST:9411/api/v2/spans, or OTLP/HTTP ' +
      'http://HOST:4318/v1/traces with --trace-format otlp)',
  },
  'trace-format': { type: 'enum', values: ['zipkin', 'otlp'], defaultText: 'zipkin', help: 'span format' },
  'trace-sampling': {
    type: 'number',
    min: 0,
    max: 100,
    arg: 'PCT',
    defaultText: '1',
    help:
      "share of the traces a proxy starts that are sampled; a pod's tracing.minimesh.dev/sampling " +
      'annotation overrides it',
  },
} as const

/** The flags' values as install options; a message (for a usage error) when they do not go together. */
export function tracingFromFlags(values: {
  'trace-collector'?: string | undefined
  'trace-format'?: 'zipkin' | 'otlp' | undefined
  'trace-sampling'?: number | undefined
}): TracingInstallOptions | string | undefined {
  const collector = values['trace-collector']
  const format = values['trace-format']
  const sampling = values['trace-sampling']
  if (collector === undefined || collector === '') {
    return format !== undefined || sampling !== undefined
      ? '--trace-format and --trace-sampling need --trace-collector'
      : undefined
  }
  if (!/^https?:\/\/[^/]+/.test(collector)) return `--trace-collector ${collector}: an http(s) URL`
  return {
    collector,
    ...(format ? { format } : {}),
    ...(sampling !== undefined ? { sampling } : {}),
  }
}

export interface TracingInstallOptions {
  /** Collector URL: Zipkin's http://HOST:9411/api/v2/spans or OTLP/HTTP's http://HOST:4318/v1/traces. */
  collector: string
  format?: 'zipkin' | 'otlp'
  /** Percentage of the traces a proxy starts that are sampled (default 1, as Istio's). */
  sampling?: number
}

function containers(d: Deployment): Container[] {
  return d.spec.template.spec.containers
}

/** Adds the tracing flags and env to meshd's and the gateway's Deployments, in place. */
export function addTracing(objects: KubeObject[], tracing: TracingInstallOptions | undefined): KubeObject[] {
  if (!tracing) return objects
  const args = ['--trace-collector', tracing.collector]
  const env = [{ name: 'MESH_TRACE_COLLECTOR', value: tracing.collector }]
  if (tracing.format) {
    args.push('--trace-format', tracing.format)
    env.push({ name: 'MESH_TRACE_FORMAT', value: tracing.format })
  }
  if (tracing.sampling !== undefined) {
    args.push('--trace-sampling', String(tracing.sampling))
    env.push({ name: 'MESH_TRACE_SAMPLING', value: String(tracing.sampling) })
  }
  for (const o of objects) {
    if (o.kind !== 'Deployment') continue
    for (const c of containers(o as Deployment)) {
      if (c.name === 'discovery') c.args = [...(c.args ?? []), ...args]
      else if (c.name === 'mesh-proxy') c.env = [...(c.env ?? []), ...env]
    }
  }
  return objects
}
