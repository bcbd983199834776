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

  it.skipIf(process.getuid?.() !== 0)(
    'hands Secret files, written before and after, to meshd’s user (needs root)',
    () => {
      dir = mkdtempSync(join(tmpdir(), 'minimesh-state-'))
      const state = new StateDir(dir)
      const secret = (name: string) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: 'minimesh-system' },
        stringData: { 'tls.crt': 'x' },
      })
      state.write(secret('before'), true)
      state.setSecretOwner(1337, 1337)
      state.write(secret('after'), true)
      for (const name of ['before', 'after']) {
        const st = statSync(stateFilePath(dir, secret(name), true))
        expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1337, 1337, 0o600])
      }
    },
  )
})
