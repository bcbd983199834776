// The edge: running iptables-save / iptables-restore. A small interface with a real implementation
// (exec, with the nft or legacy backend) and a recording one for tests.
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { INSTALL_IPTABLES_HINT, InitError } from './errors.ts'
import type { IpFamily } from './rules.ts'

export interface IptablesRunner {
  /** Which binaries it drives, for messages: 'nft', 'legacy', 'default' or 'recording'. */
  readonly backend: string
  /** `iptables-save -t nat` (ip6tables-save for family 6). */
  save(family: IpFamily): Promise<string>
  /** `iptables-restore --noflush` with `input` on stdin (ip6tables-restore for family 6). */
  restore(family: IpFamily, input: string): Promise<void>
}

export type Backend = 'nft' | 'legacy' | 'default'

/** The binary for a backend, family and tool: e.g. ('nft', 6, 'save') → ip6tables-nft-save. */
export function binaryName(backend: Backend, family: IpFamily, tool: 'save' | 'restore'): string {
  const base = family === 6 ? 'ip6tables' : 'iptables'
  return backend === 'default' ? `${base}-${tool}` : `${base}-${backend}-${tool}`
}

/** Whether `name` is an executable on PATH. */
export function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter((dir) => dir !== '')
    .some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK)
        return true
      } catch {
        return false
      }
    })
}

export interface CommandResult {
  stdout: string
  stderr: string
}

/** Runs a command with optional stdin; a missing binary or a permission failure becomes an InitError. */
export function runCommand(argv: readonly string[], input?: string): Promise<CommandResult> {
  const [cmd, ...args] = argv
  if (cmd === undefined) throw new Error('runCommand: empty argv')
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          new InitError(
            'MESH_ERR_IPTABLES_MISSING',
            `${cmd} is not installed; install it with: ${INSTALL_IPTABLES_HINT}`,
            {
              cause: error,
            },
          ),
        )
      } else reject(error)
    })
    child.on('close', (code) => {
      if (code === 0) return resolve({ stdout, stderr })
      const what = `${argv.join(' ')} exited with ${code}: ${stderr.trim() || stdout.trim()}`
      if (/permission denied|must be root|operation not permitted/i.test(stderr)) {
        reject(
          new InitError(
            'MESH_ERR_IPTABLES_NOT_ROOT',
            `not running as root: mesh-init needs root (CAP_NET_ADMIN) to change iptables (${what})`,
          ),
        )
      } else {
        reject(
          new InitError(
            args.includes('--noflush') ? 'MESH_ERR_IPTABLES_RESTORE' : 'MESH_ERR_IPTABLES_SAVE',
            what,
          ),
        )
      }
    })
    child.stdin.on('error', () => {
      // the process exited before reading its input; 'close' reports why
    })
    child.stdin.end(input ?? '')
  })
}

export interface ExecRunnerOptions {
  backend: Backend
  /** Prepended to every command, e.g. ['ip', 'netns', 'exec', 'pod-a'] to act on another namespace. */
  commandPrefix?: readonly string[]
}

/** The real runner: execs iptables-{nft,legacy}-{save,restore} (or the plain names for 'default'). */
export class ExecIptablesRunner implements IptablesRunner {
  readonly backend: Backend
  readonly #prefix: readonly string[]

  constructor(options: ExecRunnerOptions) {
    this.backend = options.backend
    this.#prefix = options.commandPrefix ?? []
  }

  async save(family: IpFamily): Promise<string> {
    const { stdout } = await runCommand([
      ...this.#prefix,
      binaryName(this.backend, family, 'save'),
      '-t',
      'nat',
    ])
    return stdout
  }

  async restore(family: IpFamily, input: string): Promise<void> {
    await runCommand([...this.#prefix, binaryName(this.backend, family, 'restore'), '--noflush'], input)
  }
}

/** The empty nat table as iptables-save prints it. */
export const EMPTY_NAT = [
  '*nat',
  ':PREROUTING ACCEPT [0:0]',
  ':INPUT ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':POSTROUTING ACCEPT [0:0]',
  'COMMIT',
  '',
].join('\n')

export interface RecordedCall {
  op: 'save' | 'restore'
  family: IpFamily
  input?: string
}

/** For tests: answers `save` with the given text per family (default: an empty nat table) and records every call. */
export class RecordingIptablesRunner implements IptablesRunner {
  readonly backend = 'recording'
  readonly calls: RecordedCall[] = []
  readonly saved: Partial<Record<IpFamily, string>>

  constructor(saved: Partial<Record<IpFamily, string>> = {}) {
    this.saved = saved
  }

  async save(family: IpFamily): Promise<string> {
    this.calls.push({ op: 'save', family })
    return this.saved[family] ?? EMPTY_NAT
  }

  async restore(family: IpFamily, input: string): Promise<void> {
    this.calls.push({ op: 'restore', family, input })
  }
}
