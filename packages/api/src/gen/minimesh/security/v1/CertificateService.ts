// Original file: proto/minimesh/security/v1/ca.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CertificateRequest as _minimesh_security_v1_CertificateRequest, CertificateRequest__Output as _minimesh_security_v1_CertificateRequest__Output } from '../../../minimesh/security/v1/CertificateRequest.ts';
import type { CertificateResponse as _minimesh_security_v1_CertificateResponse, CertificateResponse__Output as _minimesh_security_v1_CertificateResponse__Output } from '../../../minimesh/security/v1/CertificateResponse.ts';

export interface CertificateServiceClient extends grpc.Client {
  CreateCertificate(argument: _minimesh_security_v1_CertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _minimesh_security_v1_CertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _minimesh_security_v1_CertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  CreateCertificate(argument: _minimesh_security_v1_CertificateRequest, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _minimesh_security_v1_CertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _minimesh_security_v1_CertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _minimesh_security_v1_CertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  createCertificate(argument: _minimesh_security_v1_CertificateRequest, callback: grpc.requestCallback<_minimesh_security_v1_CertificateResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CertificateServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateCertificate: grpc.handleUnaryCall<_minimesh_security_v1_CertificateRequest__Output, _minimesh_security_v1_CertificateResponse>;
  
}

export interface CertificateServiceDefinition extends grpc.ServiceDefinition {
  CreateCertificate: MethodDefinition<_minimesh_security_v1_CertificateRequest, _minimesh_security_v1_CertificateResponse, _minimesh_security_v1_CertificateRequest__Output, _minimesh_security_v1_CertificateResponse__Output>
}
