import { describe, expect, it } from 'vitest'
import { analyze } from '../analyze/index.ts'
import { ApiErrorCode as C } from '../errors.ts'
import { validateObject } from '../validate.ts'
import { loadYaml } from '../yaml/load.ts'

const HEAD = 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  servers:\n'
/** A Gateway with one server (YAML lines under `- `). */
const gw = (server: string) => `${HEAD}  - ${server.trim().replace(/\n/g, '\n    ')}\n`
const https = (tls: string) =>
  gw(`port: {number: 443, name: https, protocol: HTTPS}\nhosts: [bookinfo.example.com]\ntls: ${tls}`)

function findings(yaml: string): [string, string][] {
  const { objects, findings } = loadYaml(yaml, 'gw.yaml')
  expect(findings).toEqual([])
  return validateObject(objects[0]!).map((f) => [f.code, f.path])
}

describe('Gateway servers[].tls (ServerTLSSettings)', () => {
  it.each([
    ['SIMPLE with credentialName', https('{mode: SIMPLE, credentialName: bookinfo-credential}')],
    [
      'MUTUAL with SANs and protocol versions',
      https(
        '{mode: MUTUAL, credentialName: bookinfo-credential, subjectAltNames: [client.example.com], minProtocolVersion: TLSV1_2, maxProtocolVersion: TLSV1_3}',
      ),
    ],
    [
      'httpsRedirect on a plaintext server',
      gw('port: {number: 80, name: http, protocol: HTTP}\nhosts: ["*"]\ntls: {httpsRedirect: true}'),
    ],
    ['TLS_AUTO', https('{mode: SIMPLE, credentialName: c, minProtocolVersion: TLS_AUTO}')],
  ])('accepts %s', (_name, yaml) => {
    expect(findings(yaml)).toEqual([])
  })

  it.each<[string, string, [string, string][]]>([
    [
      'HTTPS without tls',
      gw('port: {number: 443, protocol: HTTPS}\nhosts: ["*"]'),
      [[C.Required, 'spec.servers[0].tls']],
    ],
    [
      'HTTPS with tls but no mode (PASSTHROUGH)',
      https('{credentialName: c}'),
      [[C.Unimplemented, 'spec.servers[0].tls.mode']],
    ],
    [
      'SIMPLE without credentialName',
      https('{mode: SIMPLE}'),
      [[C.Required, 'spec.servers[0].tls.credentialName']],
    ],
    ['ISTIO_MUTUAL', https('{mode: ISTIO_MUTUAL}'), [[C.Unimplemented, 'spec.servers[0].tls.mode']]],
    [
      'OPTIONAL_MUTUAL',
      https('{mode: OPTIONAL_MUTUAL, credentialName: c}'),
      [[C.Unimplemented, 'spec.servers[0].tls.mode']],
    ],
    ['AUTO_PASSTHROUGH', https('{mode: AUTO_PASSTHROUGH}'), [[C.Unimplemented, 'spec.servers[0].tls.mode']]],
    [
      'certificate files',
      https(
        '{mode: SIMPLE, credentialName: c, serverCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem}',
      ),
      [
        [C.Unimplemented, 'spec.servers[0].tls.serverCertificate'],
        [C.Unimplemented, 'spec.servers[0].tls.privateKey'],
      ],
    ],
    [
      'CA file',
      https('{mode: MUTUAL, credentialName: c, caCertificates: /etc/certs/ca.pem}'),
      [[C.Unimplemented, 'spec.servers[0].tls.caCertificates']],
    ],
    [
      'subjectAltNames with SIMPLE',
      https('{mode: SIMPLE, credentialName: c, subjectAltNames: [x]}'),
      [[C.Unimplemented, 'spec.servers[0].tls.subjectAltNames']],
    ],
    [
      'min above max',
      https('{mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}'),
      [[C.Range, 'spec.servers[0].tls.maxProtocolVersion']],
    ],
    [
      'an unknown protocol version',
      https('{mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_4}'),
      [[C.Enum, 'spec.servers[0].tls.minProtocolVersion']],
    ],
    [
      'mode SIMPLE on protocol HTTP',
      gw('port: {number: 80, protocol: HTTP}\nhosts: ["*"]\ntls: {mode: SIMPLE, credentialName: c}'),
      [
        [C.Unimplemented, 'spec.servers[0].tls.mode'],
        [C.Unimplemented, 'spec.servers[0].tls.credentialName'],
      ],
    ],
    [
      'httpsRedirect on an HTTPS server',
      https('{mode: SIMPLE, credentialName: c, httpsRedirect: true}'),
      [[C.Unimplemented, 'spec.servers[0].tls.httpsRedirect']],
    ],
    [
      'protocol TLS',
      gw('port: {number: 443, protocol: TLS}\nhosts: ["*"]\ntls: {mode: PASSTHROUGH}'),
      [
        [C.Unimplemented, 'spec.servers[0].port.protocol'],
        [C.Unimplemented, 'spec.servers[0].tls.mode'],
      ],
    ],
    [
      'a credentialName that is no Secret name',
      https('{mode: SIMPLE, credentialName: "My Cert"}'),
      [[C.Pattern, 'spec.servers[0].tls.credentialName']],
    ],
  ])('refuses %s', (_name, yaml, expected) => {
    expect(findings(yaml)).toEqual(expected)
  })
})

describe('analyze: Gateway credentialName', () => {
  const secret = (name: string, ns = 'istio-system') =>
    loadYaml(
      `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}, namespace: ${ns}}\ntype: kubernetes.io/tls\n`,
      's.yaml',
    ).objects
  const gateway = () =>
    loadYaml(https('{mode: SIMPLE, credentialName: bookinfo-credential}'), 'gw.yaml').objects

  it('warns when the Secret is not among the inputs', () => {
    const found = analyze([...gateway(), ...secret('other')])
    expect(found.map((f) => [f.severity, f.code, f.path])).toEqual([
      ['warning', C.UnknownSecret, 'spec.servers[0].tls.credentialName'],
    ])
    expect(found[0]!.line).toBe(9)
  })

  it('is quiet when a Secret of that name is there (any namespace: the gateway pods’ is not known)', () => {
    expect(analyze([...gateway(), ...secret('bookinfo-credential')])).toEqual([])
  })
})
