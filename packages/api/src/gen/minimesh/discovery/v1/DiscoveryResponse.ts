// Original file: proto/minimesh/discovery/v1/discovery.proto

import type { Resource as _minimesh_discovery_v1_Resource, Resource__Output as _minimesh_discovery_v1_Resource__Output } from '../../../minimesh/discovery/v1/Resource.ts';

export interface DiscoveryResponse {
  'version_info'?: (string);
  'resources'?: (_minimesh_discovery_v1_Resource)[];
  'type_url'?: (string);
  'nonce'?: (string);
  'control_plane_id'?: (string);
  'incremental'?: (boolean);
  'removed_resources'?: (string)[];
}

export interface DiscoveryResponse__Output {
  'version_info': (string);
  'resources': (_minimesh_discovery_v1_Resource__Output)[];
  'type_url': (string);
  'nonce': (string);
  'control_plane_id': (string);
  'incremental': (boolean);
  'removed_resources': (string)[];
}
