import type { PodTemplateSpec } from '@minimesh/api/kube'
import { describe, expect, it } from 'vitest'
import { resolveInjectConfig } from '../config.ts'
import { TRACING_SAMPLING_ANNOTATION } from '../names.ts'
import { productpagePod } from '../testdata/pods.ts'
import { inject } from './inject.ts'
import { findProxy } from './sidecar.ts'

function traceEnv(pod: PodTemplateSpec): Record<string, string | undefined> {
  const proxy = findProxy(pod)!.container
  return Object.fromEntries(
    (proxy.env ?? []).filter((e) => e.name.startsWith('MESH_TRACE_')).map((e) => [e.name, e.value]),
  )
}

function annotated(value: string): PodTemplateSpec {
  const pod = productpagePod()
  pod.metadata = {
    ...pod.metadata,
    annotations: { ...pod.metadata?.annotations, [TRACING_SAMPLING_ANNOTATION]: value },
  }
  return pod
}

describe('tracing settings of the sidecar', () => {
  const mesh = resolveInjectConfig({
    tracing: { collector: 'http://zipkin.minimesh-system:9411/api/v2/spans', format: 'zipkin', sampling: 1 },
  })

  it('none without a mesh collector or an annotation (the goldens stay as they were)', () => {
    expect(traceEnv(inject(productpagePod()))).toEqual({})
  })

  it("passes the mesh's collector, format and sampling", () => {
    expect(traceEnv(inject(productpagePod(), mesh))).toEqual({
      MESH_TRACE_COLLECTOR: 'http://zipkin.minimesh-system:9411/api/v2/spans',
      MESH_TRACE_FORMAT: 'zipkin',
      MESH_TRACE_SAMPLING: '1',
    })
  })

  it('gives a native sidecar (an init container) the same settings', () => {
    const native = inject(productpagePod(), { ...mesh, nativeSidecars: true })
    expect(findProxy(native)?.list).toBe('initContainers')
    expect(traceEnv(native)).toEqual(traceEnv(inject(productpagePod(), mesh)))
    expect(traceEnv(native).MESH_TRACE_COLLECTOR).toBe('http://zipkin.minimesh-system:9411/api/v2/spans')
  })

  it('takes the pod annotation over the mesh sampling', () => {
    expect(traceEnv(inject(annotated('12.5'), mesh)).MESH_TRACE_SAMPLING).toBe('12.5')
    expect(traceEnv(inject(annotated(' 100 '), mesh)).MESH_TRACE_SAMPLING).toBe('100')
  })

  it('refuses a sampling annotation that is not a percentage, naming it', () => {
    for (const bad of ['', 'lots', '101', '-1'])
      expect(() => inject(annotated(bad), mesh), bad).toThrow(
        expect.objectContaining({
          code: 'MESH_ERR_INJECT_BAD_ANNOTATION',
          message: expect.stringContaining(TRACING_SAMPLING_ANNOTATION),
        }),
      )
  })
})
