// Service: a name, a selector and ports; Endpoints: the addresses behind it.
import type { KubeObject, Labels } from './meta.ts'

export interface ServicePort {
  name?: string
  port: number
  targetPort?: number | string
  protocol?: string
  nodePort?: number
  appProtocol?: string
  [key: string]: unknown
}

export interface Service extends KubeObject {
  spec: {
    selector?: Labels
    ports?: ServicePort[]
    clusterIP?: string
    clusterIPs?: string[]
    type?: string
    [key: string]: unknown
  }
}

export interface EndpointPort {
  name?: string
  port: number
  /** TCP when absent (the API server fills it in). */
  protocol?: string
  appProtocol?: string
}

export interface EndpointAddress {
  ip: string
  hostname?: string
  nodeName?: string
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string }
}

export interface EndpointSubset {
  addresses?: EndpointAddress[]
  notReadyAddresses?: EndpointAddress[]
  ports?: EndpointPort[]
}

export interface Endpoints extends KubeObject {
  subsets?: EndpointSubset[]
}
