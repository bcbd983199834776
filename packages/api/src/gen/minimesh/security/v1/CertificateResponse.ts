// Original file: proto/minimesh/security/v1/ca.proto


export interface CertificateResponse {
  'cert_chain'?: (string)[];
}

export interface CertificateResponse__Output {
  'cert_chain': (string)[];
}
