import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { KINDS } from './kube/kinds.ts'
import { StateDir, stateFilePath } from './state-dir.ts'

let dir: string | undefined
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

describe('state directory', () => {
  it('gives meshd Secrets (Gateway credentialName), readable by their owner only', () => {
    expect(KINDS.find((k) => k.kind === 'Secret')?.forMeshd).toBe(true)
    dir = mkdtempSync(join(tmpdir(), 'minimesh-state-'))
    const state = new StateDir(dir)
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bookinfo-credential', namespace: 'minimesh-system' },
      stringData: { 'tls.crt': 'x', 'tls.key': 'y' },
    }
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'default' } }
    state.write(secret, true)
    state.write(service, true)
    expect(statSync(stateFilePath(dir, secret, true)).mode & 0o777).toBe(0o600)
    expect(statSync(stateFilePath(dir, service, true)).isFile()).toBe(true)
  })
})
