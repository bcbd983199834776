import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DiscoveryRequest as _minimesh_discovery_v1_DiscoveryRequest, DiscoveryRequest__Output as _minimesh_discovery_v1_DiscoveryRequest__Output } from './minimesh/discovery/v1/DiscoveryRequest.ts';
import type { DiscoveryResponse as _minimesh_discovery_v1_DiscoveryResponse, DiscoveryResponse__Output as _minimesh_discovery_v1_DiscoveryResponse__Output } from './minimesh/discovery/v1/DiscoveryResponse.ts';
import type { DiscoveryServiceClient as _minimesh_discovery_v1_DiscoveryServiceClient, DiscoveryServiceDefinition as _minimesh_discovery_v1_DiscoveryServiceDefinition } from './minimesh/discovery/v1/DiscoveryService.ts';
import type { Node as _minimesh_discovery_v1_Node, Node__Output as _minimesh_discovery_v1_Node__Output } from './minimesh/discovery/v1/Node.ts';
import type { Resource as _minimesh_discovery_v1_Resource, Resource__Output as _minimesh_discovery_v1_Resource__Output } from './minimesh/discovery/v1/Resource.ts';
import type { Status as _minimesh_discovery_v1_Status, Status__Output as _minimesh_discovery_v1_Status__Output } from './minimesh/discovery/v1/Status.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  minimesh: {
    discovery: {
      v1: {
        DiscoveryRequest: MessageTypeDefinition<_minimesh_discovery_v1_DiscoveryRequest, _minimesh_discovery_v1_DiscoveryRequest__Output>
        DiscoveryResponse: MessageTypeDefinition<_minimesh_discovery_v1_DiscoveryResponse, _minimesh_discovery_v1_DiscoveryResponse__Output>
        DiscoveryService: SubtypeConstructor<typeof grpc.Client, _minimesh_discovery_v1_DiscoveryServiceClient> & { service: _minimesh_discovery_v1_DiscoveryServiceDefinition }
        Node: MessageTypeDefinition<_minimesh_discovery_v1_Node, _minimesh_discovery_v1_Node__Output>
        Resource: MessageTypeDefinition<_minimesh_discovery_v1_Resource, _minimesh_discovery_v1_Resource__Output>
        Status: MessageTypeDefinition<_minimesh_discovery_v1_Status, _minimesh_discovery_v1_Status__Output>
      }
    }
  }
}

