import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CertificateRequest as _minimesh_security_v1_CertificateRequest, CertificateRequest__Output as _minimesh_security_v1_CertificateRequest__Output } from './minimesh/security/v1/CertificateRequest.ts';
import type { CertificateResponse as _minimesh_security_v1_CertificateResponse, CertificateResponse__Output as _minimesh_security_v1_CertificateResponse__Output } from './minimesh/security/v1/CertificateResponse.ts';
import type { CertificateServiceClient as _minimesh_security_v1_CertificateServiceClient, CertificateServiceDefinition as _minimesh_security_v1_CertificateServiceDefinition } from './minimesh/security/v1/CertificateService.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  minimesh: {
    security: {
      v1: {
        CertificateRequest: MessageTypeDefinition<_minimesh_security_v1_CertificateRequest, _minimesh_security_v1_CertificateRequest__Output>
        CertificateResponse: MessageTypeDefinition<_minimesh_security_v1_CertificateResponse, _minimesh_security_v1_CertificateResponse__Output>
        CertificateService: SubtypeConstructor<typeof grpc.Client, _minimesh_security_v1_CertificateServiceClient> & { service: _minimesh_security_v1_CertificateServiceDefinition }
      }
    }
  }
}

