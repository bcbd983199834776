import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AllocateRequest as _minimesh_quota_v1_AllocateRequest, AllocateRequest__Output as _minimesh_quota_v1_AllocateRequest__Output } from './minimesh/quota/v1/AllocateRequest.ts';
import type { AllocateResponse as _minimesh_quota_v1_AllocateResponse, AllocateResponse__Output as _minimesh_quota_v1_AllocateResponse__Output } from './minimesh/quota/v1/AllocateResponse.ts';
import type { QuotaServiceClient as _minimesh_quota_v1_QuotaServiceClient, QuotaServiceDefinition as _minimesh_quota_v1_QuotaServiceDefinition } from './minimesh/quota/v1/QuotaService.ts';
import type { ReleaseRequest as _minimesh_quota_v1_ReleaseRequest, ReleaseRequest__Output as _minimesh_quota_v1_ReleaseRequest__Output } from './minimesh/quota/v1/ReleaseRequest.ts';
import type { ReleaseResponse as _minimesh_quota_v1_ReleaseResponse, ReleaseResponse__Output as _minimesh_quota_v1_ReleaseResponse__Output } from './minimesh/quota/v1/ReleaseResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  minimesh: {
    quota: {
      v1: {
        AllocateRequest: MessageTypeDefinition<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateRequest__Output>
        AllocateResponse: MessageTypeDefinition<_minimesh_quota_v1_AllocateResponse, _minimesh_quota_v1_AllocateResponse__Output>
        QuotaService: SubtypeConstructor<typeof grpc.Client, _minimesh_quota_v1_QuotaServiceClient> & { service: _minimesh_quota_v1_QuotaServiceDefinition }
        ReleaseRequest: MessageTypeDefinition<_minimesh_quota_v1_ReleaseRequest, _minimesh_quota_v1_ReleaseRequest__Output>
        ReleaseResponse: MessageTypeDefinition<_minimesh_quota_v1_ReleaseResponse, _minimesh_quota_v1_ReleaseResponse__Output>
      }
    }
  }
}

