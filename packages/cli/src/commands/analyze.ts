import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  analyze as analyzeObjects,
  type Finding,
  formatFinding,
  loadYaml,
  type SourcedObject,
} from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { InputError } from '../errors.ts'
import {
  type MeshKind,
  type MeshTarget,
  resolveTarget,
  TARGET_OPTIONS,
  type TargetFlags,
} from '../mesh/target.ts'
import { commandOptions } from './options.ts'
import type { Command, CommandIo } from './types.ts'

const LIVE_KINDS: MeshKind[] = ['Service', 'VirtualService', 'DestinationRule', 'Gateway', 'QuotaPolicy']

/** Every object of the kinds analyze checks, from the live cluster, named `cluster:kind/ns/name`. */
export async function liveObjects(target: MeshTarget, namespace?: string): Promise<SourcedObject[]> {
  const out: SourcedObject[] = []
  for (const kind of LIVE_KINDS) {
    let items: KubeObject[]
    try {
      items = await target.list(kind, namespace)
    } catch (err) {
      if (/not found|could not find|404|unknown resource type/i.test((err as Error).message)) continue
      throw err
    }
    for (const o of items) {
      const { status: _status, ...object } = o
      out.push({
        object: object as Record<string, unknown>,
        file: `cluster:${kind.toLowerCase()}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`,
        lineOf: () => undefined,
      })
    }
  }
  return out
}

/**
 * Files checked alone cannot see what lives elsewhere: a route to a subset of a host for which no
 * DestinationRule is among the inputs at all is a warning (not checked), not an error. A rule that
 * is there but lacks the subset stays an error.
 */
export function filesOnly(findings: Finding[]): Finding[] {
  return findings.map((f) =>
    f.code === 'MESH_ERR_API_UNKNOWN_SUBSET' && /no DestinationRule for .* among the inputs/.test(f.message)
      ? {
          ...f,
          severity: 'warning' as const,
          message: `${f.message}; not checked (give the file that defines it too, or analyze the live cluster: meshctl analyze --live -f …)`,
        }
      : f,
  )
}

const EXTENSIONS = ['.yaml', '.yml', '.json']
const STDIN = '<stdin>'

/** An input meshctl analyze could not read (missing file, empty directory). */
export class AnalyzeInputError extends InputError {}

interface Options {
  files: string[]
  namespace?: string | undefined
  output: 'text' | 'json'
  live: boolean
  target: TargetFlags
}

const OPTIONS = commandOptions(
  {
    filename: {
      type: 'list',
      short: 'f',
      arg: 'FILE_OR_DIR',
      help:
        'a YAML or JSON file, a directory (read recursively for .yaml, .yml, .json), or - for stdin; ' +
        'repeat for several (or give them as arguments). Files given together are checked together; a ' +
        'subset whose host has no DestinationRule among them is a warning (not checked)',
    },
    live: {
      type: 'boolean',
      help:
        "check against the live cluster's Services, VirtualServices, DestinationRules, Gateways and " +
        'QuotaPolicies (the default without -f); with -f, the files as they would be once applied over ' +
        "the cluster's objects (--local, --kubeconfig FILE, --context NAME choose the cluster; default: a " +
        'running local cluster, else Kubernetes)',
    },
    namespace: {
      type: 'string',
      short: 'n',
      arg: 'NAMESPACE',
      defaultText: 'default',
      help: 'namespace of objects that name none',
    },
    output: {
      type: 'enum',
      values: ['text', 'json'],
      short: 'o',
      default: 'text',
      help: 'text: one line per finding, then a summary; json: the findings',
    },
    ...TARGET_OPTIONS,
  },
  'meshctl analyze [-f FILE_OR_DIR…] [--live] [-n NAMESPACE] [-o text|json]',
  {
    allowPositionals: true,
    footer: `Prints every problem as \`file:line kind namespace/name field.path: message [CODE]\`.
Exits 1 when there is an error, 0 otherwise (warnings alone exit 0).`,
  },
)

function parseArgs(args: string[]): Options {
  const { values, positionals } = OPTIONS.parse(args)
  const files = [...values.filename, ...positionals]
  return {
    files,
    namespace: values.namespace,
    output: values.output,
    live: values.live || files.length === 0,
    target: values,
  }
}

/** Files under a directory with a YAML or JSON extension, recursively, in a stable order. */
async function listDir(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))
  const out: string[] = []
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listDir(p)))
    else if (e.isFile() && EXTENSIONS.some((x) => e.name.endsWith(x))) out.push(p)
  }
  return out
}

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads every input (files, directories, stdin) into `[name, text]`, names as the user wrote them. */
async function readInputs(files: string[], io: CommandIo): Promise<[string, string][]> {
  const out: [string, string][] = []
  for (const f of files) {
    if (f === '-') {
      out.push([STDIN, await readStdin(io.stdin)])
      continue
    }
    const abs = resolve(io.cwd, f)
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      throw new AnalyzeInputError(
        `cannot read ${f}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`,
        {
          cause: err,
        },
      )
    })
    if (st.isDirectory()) {
      const found = await listDir(abs)
      if (found.length === 0) throw new AnalyzeInputError(`no ${EXTENSIONS.join(', ')} files in ${f}`)
      for (const p of found) out.push([join(f, p.slice(abs.length + 1)), await readFile(p, 'utf8')])
    } else out.push([f, await readFile(abs, 'utf8')])
  }
  return out
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`

export const analyze: Command = {
  name: 'analyze',
  summary: 'check mesh config files: validate each object, then cross-check subsets, hosts, gateways, quotas',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const opts = parseArgs(args)
    const inputs = await readInputs(opts.files, io)
    const objects: SourcedObject[] = []
    let findings: Finding[] = []
    for (const [name, text] of inputs) {
      const loaded = loadYaml(text, name)
      findings.push(...loaded.findings)
      objects.push(...loaded.objects)
    }
    let live: SourcedObject[] = []
    if (opts.live) {
      const target = resolveTarget(opts.target)
      live = await liveObjects(target, opts.files.length === 0 ? opts.namespace : undefined)
      // A file's object replaces the cluster's one of the same kind, namespace and name (what
      // applying the file would do).
      const key = (o: Record<string, unknown>) => {
        const m = (o.metadata ?? {}) as { name?: string; namespace?: string }
        return `${String(o.kind)}/${m.namespace ?? opts.namespace ?? 'default'}/${m.name}`
      }
      const fromFiles = new Set(objects.map((o) => key(o.object)))
      live = live.filter((o) => !fromFiles.has(key(o.object)))
      if (opts.output === 'text') io.err(`analyzing ${live.length} objects from ${target.description}\n`)
    }
    const analyzed = analyzeObjects([...live, ...objects], { defaultNamespace: opts.namespace })
    findings.push(...(opts.live ? analyzed : filesOnly(analyzed)))
    // Findings about the cluster's own objects are shown only when no files were given.
    if (opts.live && opts.files.length > 0) findings = findings.filter((f) => !f.file?.startsWith('cluster:'))
    const errors = findings.filter((f) => f.severity === 'error').length
    const warnings = findings.length - errors
    if (opts.output === 'json') io.out(`${JSON.stringify(findings, null, 2)}\n`)
    else {
      for (const f of findings) io.out(`${formatFinding(f)}\n`)
      const where =
        inputs.length === 0
          ? 'in the live cluster'
          : `in ${plural(inputs.length, 'file')}${opts.live ? ' over the live cluster' : ''}`
      io.out(
        findings.length === 0
          ? `✔ No validation issues found ${where} (${plural(objects.length, 'object')})\n`
          : `${plural(errors, 'error')}, ${plural(warnings, 'warning')} ${where}\n`,
      )
    }
    return errors > 0 ? 1 : 0
  },
}
