// Original file: proto/minimesh/discovery/v1/discovery.proto


export interface Resource {
  'type_url'?: (string);
  'name'?: (string);
  'version'?: (string);
  'value'?: (Buffer | Uint8Array | string);
}

export interface Resource__Output {
  'type_url': (string);
  'name': (string);
  'version': (string);
  'value': (Buffer);
}
