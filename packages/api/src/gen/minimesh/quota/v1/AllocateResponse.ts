// Original file: proto/minimesh/quota/v1/quota.proto

import type { Long } from '@grpc/proto-loader';

export interface AllocateResponse {
  'granted_amount'?: (number | string | Long);
  'valid_duration_ms'?: (number | string | Long);
  'id'?: (number | string | Long);
}

export interface AllocateResponse__Output {
  'granted_amount': (string);
  'valid_duration_ms': (string);
  'id': (string);
}
