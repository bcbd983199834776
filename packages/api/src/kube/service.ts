// Service: a name, a selector and ports.
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
