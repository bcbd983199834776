// Tracing settings from mesh-proxy's flags or the environment the injector sets:
//   --trace-collector / MESH_TRACE_COLLECTOR  URL, or host:port (the format's default path is added)
//   --trace-format    / MESH_TRACE_FORMAT     zipkin (default) | otlp
//   --trace-sampling  / MESH_TRACE_SAMPLING   percentage 0–100 of the traces this proxy starts (default 1)
// No collector: tracing off (trace headers pass as they came).
import { ProxyError } from '../errors.ts'
import type { TraceFormat } from './exporter.ts'
import { DEFAULT_COLLECTOR_PATH, DEFAULT_SAMPLING, type TracingOptions } from './tracer.ts'

export interface TracingFlags {
  collector?: string | undefined
  format?: string | undefined
  sampling?: string | undefined
}

export function tracingFromFlags(flags: TracingFlags): TracingOptions | undefined {
  const collector = flags.collector?.trim()
  if (!collector) return undefined
  const format = (flags.format?.trim() || 'zipkin') as TraceFormat
  if (format !== 'zipkin' && format !== 'otlp')
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `--trace-format: zipkin or otlp, not ${flags.format}`)
  let url: URL
  try {
    url = new URL(/^[a-z]+:\/\//i.test(collector) ? collector : `http://${collector}`)
  } catch (cause) {
    throw new ProxyError(
      'MESH_ERR_PROXY_BAD_OPTION',
      `--trace-collector: not a URL or host:port: ${collector}`,
      {
        cause,
      },
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `--trace-collector: http or https, not ${url.protocol}`)
  if (url.pathname === '/' || url.pathname === '') url.pathname = DEFAULT_COLLECTOR_PATH[format]
  const text = flags.sampling?.trim()
  const sampling = text ? Number(text) : DEFAULT_SAMPLING
  if (!Number.isFinite(sampling) || sampling < 0 || sampling > 100)
    throw new ProxyError('MESH_ERR_PROXY_BAD_OPTION', `--trace-sampling: a percentage 0–100, not ${text}`)
  return { collector: url.href, format, sampling }
}
