// Original file: proto/minimesh/quota/v1/quota.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleaseRequest {
  'quota'?: (string);
  'dimensions'?: ({[key: string]: string});
  'amount'?: (number | string | Long);
}

export interface ReleaseRequest__Output {
  'quota': (string);
  'dimensions': ({[key: string]: string});
  'amount': (string);
}
