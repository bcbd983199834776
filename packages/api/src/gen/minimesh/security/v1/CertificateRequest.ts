// Original file: proto/minimesh/security/v1/ca.proto

import type { Long } from '@grpc/proto-loader';

export interface CertificateRequest {
  'csr'?: (string);
  'validity_duration'?: (number | string | Long);
}

export interface CertificateRequest__Output {
  'csr': (string);
  'validity_duration': (string);
}
