// Original file: proto/minimesh/discovery/v1/discovery.proto

import type { Node as _minimesh_discovery_v1_Node, Node__Output as _minimesh_discovery_v1_Node__Output } from '../../../minimesh/discovery/v1/Node.ts';
import type { Status as _minimesh_discovery_v1_Status, Status__Output as _minimesh_discovery_v1_Status__Output } from '../../../minimesh/discovery/v1/Status.ts';

export interface DiscoveryRequest {
  'version_info'?: (string);
  'node'?: (_minimesh_discovery_v1_Node | null);
  'resource_names'?: (string)[];
  'type_url'?: (string);
  'response_nonce'?: (string);
  'error_detail'?: (_minimesh_discovery_v1_Status | null);
  'incremental'?: (boolean);
}

export interface DiscoveryRequest__Output {
  'version_info': (string);
  'node': (_minimesh_discovery_v1_Node__Output | null);
  'resource_names': (string)[];
  'type_url': (string);
  'response_nonce': (string);
  'error_detail': (_minimesh_discovery_v1_Status__Output | null);
  'incremental': (boolean);
}
