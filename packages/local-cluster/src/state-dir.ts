// The state directory meshd watches (`meshd --config-dir DIR`): one object per file at
// DIR/<kind lower-case>/<namespace or _cluster>/<name>.yaml, written atomically (temp file in the
// same directory, then rename) and removed on delete. Contract: /work/helper-contracts.md.
import { chownSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { KubeObject } from '@minimesh/api/kube'
import { stringify } from 'yaml'

export function stateFilePath(
  dir: string,
  obj: { kind: string; metadata: { namespace?: string; name?: string } },
  namespaced: boolean,
): string {
  return join(
    dir,
    obj.kind.toLowerCase(),
    namespaced ? (obj.metadata.namespace ?? 'default') : '_cluster',
    `${obj.metadata.name}.yaml`,
  )
}

export class StateDir {
  readonly dir: string
  #seq = 0
  /** meshd's user: the owner of Secret files (readable by their owner only). */
  #secretOwner: { uid: number; gid: number } | undefined

  constructor(dir: string) {
    this.dir = dir
    mkdirSync(dir, { recursive: true })
  }

  /** Writes the object; returns false when the file already held exactly this text. */
  write(obj: KubeObject, namespaced: boolean): boolean {
    const path = stateFilePath(this.dir, obj, namespaced)
    const text = stringify(obj, { aliasDuplicateObjects: false })
    try {
      if (readFileSync(path, 'utf8') === text) return false
    } catch {}
    mkdirSync(dirname(path), { recursive: true })
    const tmp = join(dirname(path), `.${obj.metadata.name}.yaml.${process.pid}.${this.#seq++}.tmp`)
    // A Secret's keys are readable by their owner only: meshd's user once it is known.
    const secret = obj.kind === 'Secret'
    writeFileSync(tmp, text, { mode: secret ? 0o600 : 0o644 })
    if (secret && this.#secretOwner) chownSync(tmp, this.#secretOwner.uid, this.#secretOwner.gid)
    renameSync(tmp, path)
    return true
  }

  /** Gives every Secret file, now and later, to meshd's user (it runs as a non-root uid). */
  setSecretOwner(uid: number, gid: number): void {
    this.#secretOwner = { uid, gid }
    const root = join(this.dir, 'secret')
    let namespaces: string[] = []
    try {
      namespaces = readdirSync(root)
    } catch {
      return
    }
    for (const ns of namespaces)
      for (const f of readdirSync(join(root, ns))) chownSync(join(root, ns, f), uid, gid)
  }

  remove(obj: { kind: string; metadata: { namespace?: string; name?: string } }, namespaced: boolean): void {
    rmSync(stateFilePath(this.dir, obj, namespaced), { force: true })
  }
}
