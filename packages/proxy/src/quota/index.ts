export { attributeLookup, type RequestInfo, serviceFromHost, type WorkloadInfo } from './attributes.ts'
export { QuotaChecker, type QuotaCheckerOptions, type QuotaDecision, selectLimit } from './checker.ts'
export { grpcQuotaClient, type QuotaClient, type QuotaRequest } from './client.ts'
export { QuotaInboundPolicy, type QuotaPolicyOptions } from './policy.ts'
