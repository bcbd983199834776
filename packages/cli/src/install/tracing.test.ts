import { describe, expect, it } from 'vitest'
import { installManifests, type KubeObject } from './manifests.ts'

function container(objects: KubeObject[], deployment: string) {
  const d = objects.find(
    (o) => o.kind === 'Deployment' && (o.metadata as { name: string }).name === deployment,
  )!
  return (
    d.spec as {
      template: { spec: { containers: { args?: string[]; env?: { name: string; value?: string }[] }[] } }
    }
  ).template.spec.containers[0]!
}

describe('install with tracing', () => {
  it('gives meshd the --trace-* flags and the gateway the MESH_TRACE_* env', async () => {
    const objects = await installManifests({
      tracing: { collector: 'http://zipkin.minimesh-system:9411/api/v2/spans', format: 'otlp', sampling: 5 },
    })
    expect(container(objects, 'meshd').args).toEqual(
      expect.arrayContaining([
        '--trace-collector',
        'http://zipkin.minimesh-system:9411/api/v2/spans',
        '--trace-format',
        'otlp',
        '--trace-sampling',
        '5',
      ]),
    )
    expect(container(objects, 'minimesh-ingressgateway').env).toEqual(
      expect.arrayContaining([
        { name: 'MESH_TRACE_COLLECTOR', value: 'http://zipkin.minimesh-system:9411/api/v2/spans' },
        { name: 'MESH_TRACE_FORMAT', value: 'otlp' },
        { name: 'MESH_TRACE_SAMPLING', value: '5' },
      ]),
    )
  })

  it('adds nothing without it', async () => {
    const objects = await installManifests()
    expect(container(objects, 'meshd').args?.join(' ')).not.toContain('--trace')
    expect(JSON.stringify(container(objects, 'minimesh-ingressgateway').env)).not.toContain('MESH_TRACE')
  })
})
