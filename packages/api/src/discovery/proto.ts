import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType } from '../gen/discovery.ts'

/** Directory of the .proto sources shipped with this package. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url))
export const DISCOVERY_PROTO = 'minimesh/discovery/v1/discovery.proto'

/** proto-loader options; the generated types in src/gen are made with the same ones. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
}

let cached: ProtoGrpcType | undefined

/** The discovery service definitions, loaded once (client constructor and service definition). */
export function loadDiscoveryProto(): ProtoGrpcType {
  cached ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(DISCOVERY_PROTO, LOADER_OPTIONS),
  ) as unknown as ProtoGrpcType
  return cached
}

export type { DiscoveryRequest } from '../gen/minimesh/discovery/v1/DiscoveryRequest.ts'
export type { DiscoveryResponse } from '../gen/minimesh/discovery/v1/DiscoveryResponse.ts'
export type {
  DiscoveryServiceClient,
  DiscoveryServiceHandlers,
} from '../gen/minimesh/discovery/v1/DiscoveryService.ts'
export type { Node } from '../gen/minimesh/discovery/v1/Node.ts'
export type { Resource as WireResource } from '../gen/minimesh/discovery/v1/Resource.ts'
