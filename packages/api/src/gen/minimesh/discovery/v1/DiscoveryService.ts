// Original file: proto/minimesh/discovery/v1/discovery.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DiscoveryRequest as _minimesh_discovery_v1_DiscoveryRequest, DiscoveryRequest__Output as _minimesh_discovery_v1_DiscoveryRequest__Output } from '../../../minimesh/discovery/v1/DiscoveryRequest.ts';
import type { DiscoveryResponse as _minimesh_discovery_v1_DiscoveryResponse, DiscoveryResponse__Output as _minimesh_discovery_v1_DiscoveryResponse__Output } from '../../../minimesh/discovery/v1/DiscoveryResponse.ts';

export interface DiscoveryServiceClient extends grpc.Client {
  StreamResources(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_discovery_v1_DiscoveryRequest, _minimesh_discovery_v1_DiscoveryResponse__Output>;
  StreamResources(options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_discovery_v1_DiscoveryRequest, _minimesh_discovery_v1_DiscoveryResponse__Output>;
  streamResources(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_discovery_v1_DiscoveryRequest, _minimesh_discovery_v1_DiscoveryResponse__Output>;
  streamResources(options?: grpc.CallOptions): grpc.ClientDuplexStream<_minimesh_discovery_v1_DiscoveryRequest, _minimesh_discovery_v1_DiscoveryResponse__Output>;
  
}

export interface DiscoveryServiceHandlers extends grpc.UntypedServiceImplementation {
  StreamResources: grpc.handleBidiStreamingCall<_minimesh_discovery_v1_DiscoveryRequest__Output, _minimesh_discovery_v1_DiscoveryResponse>;
  
}

export interface DiscoveryServiceDefinition extends grpc.ServiceDefinition {
  StreamResources: MethodDefinition<_minimesh_discovery_v1_DiscoveryRequest, _minimesh_discovery_v1_DiscoveryResponse, _minimesh_discovery_v1_DiscoveryRequest__Output, _minimesh_discovery_v1_DiscoveryResponse__Output>
}
