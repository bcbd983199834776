// Original file: proto/minimesh/quota/v1/quota.proto

import type { Long } from '@grpc/proto-loader';

export interface AllocateRequest {
  'quota'?: (string);
  'dimensions'?: ({[key: string]: string});
  'amount'?: (number | string | Long);
  'max_amount'?: (number | string | Long);
  'valid_duration_ms'?: (number | string | Long);
  'dedup_id'?: (string);
  'best_effort'?: (boolean);
  'id'?: (number | string | Long);
}

export interface AllocateRequest__Output {
  'quota': (string);
  'dimensions': ({[key: string]: string});
  'amount': (string);
  'max_amount': (string);
  'valid_duration_ms': (string);
  'dedup_id': (string);
  'best_effort': (boolean);
  'id': (string);
}
