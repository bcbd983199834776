// Original file: proto/minimesh/quota/v1/quota.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleaseResponse {
  'released_amount'?: (number | string | Long);
}

export interface ReleaseResponse__Output {
  'released_amount': (string);
}
