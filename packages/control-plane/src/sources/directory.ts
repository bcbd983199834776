import { type FSWatcher, watch } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import { ApiErrorCode, type Finding, loadYaml } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../errors.ts'
import { type ConfigSink, type ConfigSource, isKubeObject, objectKey } from './source.ts'

const EXTENSIONS = ['.yaml', '.yml', '.json']

export interface DirectorySourceOptions {
  logger?: Logger
  /** Quiet time before a changed file is read (editors write in several steps). Default 10 ms. */
  settleMs?: number
  /** Full rescan interval, a safety net for missed watch events. Default 60 s; 0 disables. */
  rescanMs?: number
}

function wanted(name: string): boolean {
  return !name.startsWith('.') && EXTENSIONS.some((e) => name.endsWith(e))
}

/**
 * Configuration from a directory of YAML/JSON files (read recursively, multi-document, `kind: List`
 * flattened), watched for changes. A file that no longer parses keeps its objects as they were and
 * is reported; a file deleted removes its objects.
 */
export class DirectorySource implements ConfigSource {
  readonly description: string
  private readonly dir: string
  private readonly log?: Logger
  private readonly settleMs: number
  private readonly rescanMs: number
  private sink?: ConfigSink
  private readonly watchers = new Map<string, FSWatcher>()
  /** Keys each file defined at its last good read, and the file's mtime and size then. */
  private readonly files = new Map<string, { keys: Set<string>; stamp: string }>()
  private readonly dirty = new Set<string>()
  private timer?: NodeJS.Timeout
  private rescanTimer?: NodeJS.Timeout
  private closed = false
  private busy: Promise<void> = Promise.resolve()

  constructor(dir: string, options: DirectorySourceOptions = {}) {
    this.dir = resolve(dir)
    this.description = `directory:${this.dir}`
    this.log = options.logger
    this.settleMs = options.settleMs ?? 10
    this.rescanMs = options.rescanMs ?? 60_000
  }

  async start(sink: ConfigSink): Promise<void> {
    this.sink = sink
    let info: Awaited<ReturnType<typeof stat>>
    try {
      info = await stat(this.dir)
      await readdir(this.dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const why =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'ENOTDIR'
            ? 'is not a directory'
            : code === 'EACCES'
              ? 'is not readable'
              : `cannot be read (${code})`
      throw new ControlPlaneError('MESH_ERR_MESHD_CONFIG_DIR', `config directory ${this.dir} ${why}`, {
        cause: err,
      })
    }
    if (!info.isDirectory())
      throw new ControlPlaneError(
        'MESH_ERR_MESHD_CONFIG_DIR',
        `config directory ${this.dir} is not a directory`,
      )
    await this.scan(this.dir)
    if (this.rescanMs > 0) {
      this.rescanTimer = setInterval(() => this.enqueue(() => this.rescan()), this.rescanMs)
      this.rescanTimer.unref()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.timer)
    clearInterval(this.rescanTimer)
    for (const w of this.watchers.values()) w.close()
    this.watchers.clear()
    await this.busy
  }

  private enqueue(job: () => Promise<void>): void {
    this.busy = this.busy.then(job).catch((err) => this.log?.error({ err }, 'config directory: read failed'))
  }

  /** Reads every wanted file below `dir` and watches every directory. */
  private async scan(dir: string): Promise<void> {
    this.watchDir(dir)
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      this.log?.warn({ err, dir }, 'config directory: cannot list')
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1))
    for (const e of entries) {
      const path = join(dir, e.name)
      if (e.isDirectory()) await this.scan(path)
      else if (e.isFile() && wanted(e.name)) await this.readFile(path)
    }
  }

  private watchDir(dir: string): void {
    if (this.watchers.has(dir) || this.closed) return
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        this.touch(name ? join(dir, name.toString()) : dir)
      })
      w.on('error', () => this.touch(dir))
      this.watchers.set(dir, w)
    } catch (err) {
      this.log?.warn({ err, dir }, 'config directory: cannot watch')
    }
  }

  private touch(path: string): void {
    if (this.closed) return
    this.dirty.add(path)
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      const paths = [...this.dirty].sort()
      this.dirty.clear()
      this.enqueue(async () => {
        for (const p of paths) await this.check(p)
      })
    }, this.settleMs)
  }

  /** Something happened at `path`: a file or directory appeared, changed or went away. */
  private async check(path: string): Promise<void> {
    let info: Awaited<ReturnType<typeof stat>> | undefined
    try {
      info = await stat(path)
    } catch {
      info = undefined
    }
    if (info?.isDirectory()) {
      if (!this.watchers.has(path)) await this.scan(path)
      else await this.rescan(path)
      return
    }
    if (info?.isFile()) {
      if (wanted(path.slice(path.lastIndexOf(sep) + 1))) await this.readFile(path)
      return
    }
    // Gone: a file, or a directory with everything under it.
    const prefix = path + sep
    for (const [dir, w] of this.watchers)
      if (dir === path || dir.startsWith(prefix)) {
        w.close()
        this.watchers.delete(dir)
      }
    for (const file of [...this.files.keys()]) if (file === path || file.startsWith(prefix)) this.forget(file)
  }

  /** Compares the tree with what was read: new, changed and removed files. */
  private async rescan(root = this.dir): Promise<void> {
    const seen = new Set<string>()
    const walk = async (dir: string) => {
      this.watchDir(dir)
      let entries: import('node:fs').Dirent[]
      try {
        entries = await readdir(dir, { withFileTypes: true })
      } catch {
        return
      }
      for (const e of entries) {
        const path = join(dir, e.name)
        if (e.isDirectory()) await walk(path)
        else if (e.isFile() && wanted(e.name)) {
          seen.add(path)
          await this.readFile(path)
        }
      }
    }
    await walk(root)
    const prefix = root + sep
    for (const file of [...this.files.keys()])
      if (file.startsWith(prefix) && !seen.has(file)) this.forget(file)
  }

  private forget(file: string): void {
    const entry = this.files.get(file)
    this.files.delete(file)
    for (const key of entry?.keys ?? []) this.sink?.remove(key, file)
    this.sink?.report(file, [])
  }

  private async readFile(path: string): Promise<void> {
    let text: string
    let stamp: string
    try {
      const info = await stat(path)
      stamp = `${info.mtimeMs}:${info.size}:${info.ino}`
      if (this.files.get(path)?.stamp === stamp) return
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.forget(path)
      else this.report(path, [problem(path, `cannot read: ${(err as Error).message}`)])
      return
    }
    const name = relative(this.dir, path)
    const { objects, findings } = loadYaml(text, path)
    const problems = [...findings]
    const found: KubeObject[] = []
    for (const o of objects) {
      if (isKubeObject(o.object)) found.push(o.object)
      else
        problems.push(
          problem(path, 'not a Kubernetes object: apiVersion, kind and metadata.name are required', o.line),
        )
    }
    if (findings.length) {
      // A file that does not parse keeps its objects as they were (the last good version serves).
      this.log?.warn(
        { file: name, findings },
        'config directory: file does not parse; keeping its previous objects',
      )
      this.report(path, problems)
      return
    }
    const keys = new Set<string>()
    for (const obj of found) {
      keys.add(objectKey(obj))
      this.sink?.upsert(obj, path)
    }
    for (const key of this.files.get(path)?.keys ?? []) if (!keys.has(key)) this.sink?.remove(key, path)
    this.files.set(path, { keys, stamp })
    this.report(path, problems)
  }

  private report(path: string, findings: Finding[]): void {
    this.sink?.report(path, findings)
  }
}

function problem(file: string, message: string, line?: number): Finding {
  return { severity: 'error', code: ApiErrorCode.Yaml, message, path: '', file, line }
}
