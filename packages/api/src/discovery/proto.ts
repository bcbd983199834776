import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType as CaProtoGrpcType } from '../gen/ca.ts'
import type { ProtoGrpcType } from '../gen/discovery.ts'
import type { ProtoGrpcType as QuotaProtoGrpcType } from '../gen/quota.ts'

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

export const QUOTA_PROTO = 'minimesh/quota/v1/quota.proto'
let quotaCached: QuotaProtoGrpcType | undefined

/** The quota service definitions (`minimesh.quota.v1.QuotaService`), loaded once. */
export function loadQuotaProto(): QuotaProtoGrpcType {
  quotaCached ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(QUOTA_PROTO, LOADER_OPTIONS),
  ) as unknown as QuotaProtoGrpcType
  return quotaCached
}

export type { AllocateRequest, AllocateRequest__Output } from '../gen/minimesh/quota/v1/AllocateRequest.ts'
export type { AllocateResponse, AllocateResponse__Output } from '../gen/minimesh/quota/v1/AllocateResponse.ts'
export type { QuotaServiceClient, QuotaServiceHandlers } from '../gen/minimesh/quota/v1/QuotaService.ts'
export type { ReleaseRequest__Output } from '../gen/minimesh/quota/v1/ReleaseRequest.ts'

export const CA_PROTO = 'minimesh/security/v1/ca.proto'
let caCached: CaProtoGrpcType | undefined

/** The certificate service definitions (`minimesh.security.v1.CertificateService`), loaded once. */
export function loadCaProto(): CaProtoGrpcType {
  caCached ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(CA_PROTO, LOADER_OPTIONS),
  ) as unknown as CaProtoGrpcType
  return caCached
}

export type {
  CertificateRequest,
  CertificateRequest__Output,
} from '../gen/minimesh/security/v1/CertificateRequest.ts'
export type {
  CertificateResponse,
  CertificateResponse__Output,
} from '../gen/minimesh/security/v1/CertificateResponse.ts'
export type {
  CertificateServiceClient,
  CertificateServiceHandlers,
} from '../gen/minimesh/security/v1/CertificateService.ts'
