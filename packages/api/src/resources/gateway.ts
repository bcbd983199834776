import { array, type Infer, integer, object, optional, record, string } from '../schema/index.ts'
import { defineKind, type Resource } from './common.ts'

const server = object(
  {
    port: object(
      {
        number: integer({ min: 1, max: 65535 }),
        name: optional(string()),
        protocol: string({ enum: ['HTTP', 'HTTP2', 'TCP'] as const }),
      },
      { unimplemented: ['targetPort'] },
    ),
    hosts: array(string(), { minItems: 1 }),
    name: optional(string()),
  },
  { unimplemented: ['tls', 'bind', 'defaultEndpoint'] },
)

export const gatewaySpec = object({
  selector: optional(record(string())),
  servers: array(server, { minItems: 1 }),
})

export type GatewaySpec = Infer<typeof gatewaySpec>
export type GatewayServer = Infer<typeof server>
export type Gateway = Resource<GatewaySpec, 'Gateway'>

export const GatewayKind = defineKind({
  group: 'networking.istio.io',
  kind: 'Gateway',
  plural: 'gateways',
  singular: 'gateway',
  shortNames: ['gw'],
  categories: ['minimesh-io', 'networking-istio-io'],
  versions: ['v1', 'v1beta1', 'v1alpha3'],
  spec: gatewaySpec,
})
