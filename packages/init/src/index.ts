// @minimesh/init as a library: build the capture rules (pure), apply or clean them through a runner.
export { applyRules, cleanRules, type FamilyResult } from './apply.ts'
export { type CliIo, runCli } from './cli.ts'
export { availableBackends, detectBackend, podHasIpv6 } from './detect.ts'
export { INSTALL_IPTABLES_HINT, InitError, type InitErrorCode } from './errors.ts'
export {
  ALWAYS_EXCLUDED_INBOUND_PORTS,
  type BackendChoice,
  type CaptureOptions,
  DEFAULT_OPTIONS,
  type Ipv6Mode,
  type ParsedArgs,
  parseArgs,
  type Selection,
} from './options.ts'
export {
  applyScript,
  cleanScript,
  isClean,
  normalizeSave,
  ownedState,
  parseSave,
  type SavedRule,
  type SavedTable,
} from './restore-script.ts'
export { buildRules, CHAINS, COMMENT_PREFIX, type IpFamily, OWNED_CHAINS, PURPOSES } from './rules.ts'
export {
  type Backend,
  EMPTY_NAT,
  ExecIptablesRunner,
  type IptablesRunner,
  type RecordedCall,
  RecordingIptablesRunner,
} from './runner.ts'
