import type { KubeObject } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { installManifests } from './manifests.ts'

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

describe('meshctl manifest generate --trace-*', () => {
  it('puts the collector in the manifests, and refuses bad values', async () => {
    const { manifest } = await import('../commands/manifest.ts')
    let out = ''
    const io = {
      out: (s: string) => {
        out += s
      },
      err: () => {},
    } as unknown as Parameters<typeof manifest.run>[1]
    expect(
      await manifest.run(
        ['generate', '--trace-collector', 'http://zipkin:9411/api/v2/spans', '--trace-sampling', '10'],
        io,
      ),
    ).toBe(0)
    expect(out).toContain('--trace-collector')
    expect(out).toContain('MESH_TRACE_SAMPLING')
    await expect(manifest.run(['generate', '--trace-sampling', '10'], io)).rejects.toThrow(
      /need --trace-collector/,
    )
    await expect(manifest.run(['generate', '--trace-collector', 'zipkin:9411'], io)).rejects.toThrow(
      /http\(s\) URL/,
    )
    await expect(
      manifest.run(['generate', '--trace-collector', 'http://z:9411', '--trace-sampling', '150'], io),
    ).rejects.toThrow('--trace-sampling 150: must be between 0 and 100')
  })
})
