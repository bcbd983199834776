import { describe, expect, it } from 'vitest'
import { secretData } from '../snapshot.ts'
import { normalize } from './normalize.ts'

describe('normalize: Secret', () => {
  it('keeps only the TLS keys (other contents never stay in meshd)', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    const o = normalize('v1', 'Secret', {
      metadata: { name: 'cred', namespace: 'istio-system', resourceVersion: '3' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY'), 'ca.crt': b64('CA'), password: b64('hunter2') },
    })
    expect(o).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cred', namespace: 'istio-system', resourceVersion: '3' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY'), 'ca.crt': b64('CA') },
    })
    expect(secretData(o!)).toEqual({ 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CA' })
  })

  it('reads stringData (a file) before data, as the API server merges them', () => {
    const o = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'c' },
      data: { cert: Buffer.from('OLD').toString('base64'), key: Buffer.from('K').toString('base64') },
      stringData: { cert: 'NEW' },
    }
    expect(secretData(o)).toEqual({ cert: 'NEW', key: 'K' })
  })
})

describe('normalize: Pod', () => {
  it('keeps the injector status annotation (auto mTLS picks pods with the sidecar by it) and no other', () => {
    const pod = normalize('v1', 'Pod', {
      metadata: {
        name: 'reviews-v1-abc',
        namespace: 'default',
        annotations: {
          'sidecar.minimesh.dev/status': '{"containers":["mesh-proxy"]}',
          'big/annotation': 'x',
        },
      },
      spec: { containers: [] },
      status: { podIP: '10.244.0.7' },
    })
    expect(pod?.metadata.annotations).toEqual({
      'sidecar.minimesh.dev/status': '{"containers":["mesh-proxy"]}',
    })
    const plain = normalize('v1', 'Pod', { metadata: { name: 'legacy', annotations: { a: 'b' } }, spec: {} })
    expect(plain?.metadata.annotations).toBeUndefined()
  })
})
