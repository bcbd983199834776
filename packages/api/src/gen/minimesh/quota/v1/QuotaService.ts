// Original file: proto/minimesh/quota/v1/quota.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AllocateRequest as _minimesh_quota_v1_AllocateRequest, AllocateRequest__Output as _minimesh_quota_v1_AllocateRequest__Output } from '../../../minimesh/quota/v1/AllocateRequest.ts';
import type { AllocateResponse as _minimesh_quota_v1_AllocateResponse, AllocateResponse__Output as _minimesh_quota_v1_AllocateResponse__Output } from '../../../minimesh/quota/v1/AllocateResponse.ts';
import type { ReleaseRequest as _minimesh_quota_v1_ReleaseRequest, ReleaseRequest__Output as _minimesh_quota_v1_ReleaseRequest__Output } from '../../../minimesh/quota/v1/ReleaseRequest.ts';
import type { ReleaseResponse as _minimesh_quota_v1_ReleaseResponse, ReleaseResponse__Output as _minimesh_quota_v1_ReleaseResponse__Output } from '../../../minimesh/quota/v1/ReleaseResponse.ts';

export interface QuotaServiceClient extends grpc.Client {
  Allocate(argument: _minimesh_quota_v1_AllocateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  Allocate(argument: _minimesh_quota_v1_AllocateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  Allocate(argument: _minimesh_quota_v1_AllocateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  Allocate(argument: _minimesh_quota_v1_AllocateRequest, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  allocate(argument: _minimesh_quota_v1_AllocateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  allocate(argument: _minimesh_quota_v1_AllocateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  allocate(argument: _minimesh_quota_v1_AllocateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  allocate(argument: _minimesh_quota_v1_AllocateRequest, callback: grpc.requestCallback<_minimesh_quota_v1_AllocateResponse__Output>): grpc.ClientUnaryCall;
  
  AllocateStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateResponse__Output>;
  AllocateStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateResponse__Output>;
  allocateStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateResponse__Output>;
  allocateStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateResponse__Output>;
  
  Release(argument: _minimesh_quota_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _minimesh_quota_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _minimesh_quota_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  Release(argument: _minimesh_quota_v1_ReleaseRequest, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _minimesh_quota_v1_ReleaseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _minimesh_quota_v1_ReleaseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _minimesh_quota_v1_ReleaseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  release(argument: _minimesh_quota_v1_ReleaseRequest, callback: grpc.requestCallback<_minimesh_quota_v1_ReleaseResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface QuotaServiceHandlers extends grpc.UntypedServiceImplementation {
  Allocate: grpc.handleUnaryCall<_minimesh_quota_v1_AllocateRequest__Output, _minimesh_quota_v1_AllocateResponse>;
  
  AllocateStream: grpc.handleBidiStreamingCall<_minimesh_quota_v1_AllocateRequest__Output, _minimesh_quota_v1_AllocateResponse>;
  
  Release: grpc.handleUnaryCall<_minimesh_quota_v1_ReleaseRequest__Output, _minimesh_quota_v1_ReleaseResponse>;
  
}

export interface QuotaServiceDefinition extends grpc.ServiceDefinition {
  Allocate: MethodDefinition<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateResponse, _minimesh_quota_v1_AllocateRequest__Output, _minimesh_quota_v1_AllocateResponse__Output>
  AllocateStream: MethodDefinition<_minimesh_quota_v1_AllocateRequest, _minimesh_quota_v1_AllocateResponse, _minimesh_quota_v1_AllocateRequest__Output, _minimesh_quota_v1_AllocateResponse__Output>
  Release: MethodDefinition<_minimesh_quota_v1_ReleaseRequest, _minimesh_quota_v1_ReleaseResponse, _minimesh_quota_v1_ReleaseRequest__Output, _minimesh_quota_v1_ReleaseResponse__Output>
}
