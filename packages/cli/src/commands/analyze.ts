import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  analyze as analyzeObjects,
  type Finding,
  formatFinding,
  loadYaml,
  type SourcedObject,
} from '@minimesh/api'
import { type Command, type CommandIo, UsageError } from './types.ts'

const EXTENSIONS = ['.yaml', '.yml', '.json']
const STDIN = '<stdin>'

/** An input meshctl analyze could not read (missing file, empty directory). */
export class AnalyzeInputError extends Error {
  readonly code = 'MESH_ERR_CLI_INPUT'
}

interface Options {
  files: string[]
  namespace?: string
  output: 'text' | 'json'
}

function parseArgs(args: string[]): Options {
  const opts: Options = { files: [], output: 'text' }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1)
      const v = args[++i]
      if (v === undefined) throw new UsageError(`${flag} needs a value`)
      return v
    }
    if (flag === '-f' || flag === '--filename') opts.files.push(value())
    else if (flag === '-n' || flag === '--namespace') opts.namespace = value()
    else if (flag === '-o' || flag === '--output') {
      const o = value()
      if (o !== 'text' && o !== 'json') throw new UsageError(`--output must be text or json, got "${o}"`)
      opts.output = o
    } else if (arg === '-' || !arg.startsWith('-')) opts.files.push(arg)
    else throw new UsageError(`unknown flag ${arg}`)
  }
  if (opts.files.length === 0)
    throw new UsageError('give at least one file or directory with -f (- for stdin)')
  return opts
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
  usage: `meshctl analyze -f FILE_OR_DIR [-f FILE_OR_DIR…] [-n NAMESPACE] [-o text|json]

  -f, --filename   a YAML or JSON file, a directory (read recursively for .yaml, .yml, .json),
                   or - for stdin; repeat for several
  -n, --namespace  namespace of objects that name none (default: default)
  -o, --output     text (default): one line per finding, then a summary; json: the findings

Prints every problem as \`file:line kind namespace/name field.path: message [CODE]\`.
Exits 1 when there is an error, 0 otherwise (warnings alone exit 0).`,
  async run(args, io) {
    const opts = parseArgs(args)
    const inputs = await readInputs(opts.files, io)
    const objects: SourcedObject[] = []
    const findings: Finding[] = []
    for (const [name, text] of inputs) {
      const loaded = loadYaml(text, name)
      findings.push(...loaded.findings)
      objects.push(...loaded.objects)
    }
    findings.push(...analyzeObjects(objects, { defaultNamespace: opts.namespace }))
    const errors = findings.filter((f) => f.severity === 'error').length
    const warnings = findings.length - errors
    if (opts.output === 'json') io.out(`${JSON.stringify(findings, null, 2)}\n`)
    else {
      for (const f of findings) io.out(`${formatFinding(f)}\n`)
      const where = `in ${plural(inputs.length, 'file')}`
      io.out(
        findings.length === 0
          ? `✔ No validation issues found ${where} (${plural(objects.length, 'object')})\n`
          : `${plural(errors, 'error')}, ${plural(warnings, 'warning')} ${where}\n`,
      )
    }
    return errors > 0 ? 1 : 0
  },
}
