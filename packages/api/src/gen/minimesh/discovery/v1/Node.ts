// Original file: proto/minimesh/discovery/v1/discovery.proto


export interface Node {
  'id'?: (string);
  'namespace'?: (string);
  'service_account'?: (string);
  'workload_name'?: (string);
  'pod_name'?: (string);
  'ip_addresses'?: (string)[];
  'labels'?: ({[key: string]: string});
  'metadata'?: ({[key: string]: string});
}

export interface Node__Output {
  'id': (string);
  'namespace': (string);
  'service_account': (string);
  'workload_name': (string);
  'pod_name': (string);
  'ip_addresses': (string)[];
  'labels': ({[key: string]: string});
  'metadata': ({[key: string]: string});
}
