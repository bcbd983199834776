// `-f` for meshctl local apply/delete: files, directories (every *.yaml, *.yml, *.json, sorted) or
// `-` for stdin, read with @minimesh/api's YAML loader (multi-document, `kind: List` flattened).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { formatFinding, hasErrors, loadYaml } from '@minimesh/api'
import { UsageError } from '../commands/types.ts'
import { InputError } from '../errors.ts'

export type Manifest = Record<string, unknown>

/** An input that cannot be used: missing file, nothing in it. Not a usage error: no usage text follows. */
class ManifestError extends InputError {}

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  stream.setEncoding('utf8')
  for await (const chunk of stream) text += chunk as string
  return text
}

function filesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const full = join(path, name)
      if (statSync(full).isDirectory()) return filesOf(full)
      return /\.(ya?ml|json)$/.test(name) ? [full] : []
    })
}

/** The objects of every `-f` source, in order; throws with file:line for YAML errors. */
export async function readManifests(
  sources: string[],
  cwd: string,
  stdin: NodeJS.ReadableStream,
  namespace?: string,
): Promise<Manifest[]> {
  if (sources.length === 0) throw new UsageError('no manifests: give -f FILE, -f DIR or -f -')
  const out: Manifest[] = []
  for (const src of sources) {
    const docs: { text: string; file: string }[] =
      src === '-'
        ? [{ text: await readStdin(stdin), file: '<stdin>' }]
        : (() => {
            const path = resolve(cwd, src)
            let files: { text: string; file: string }[]
            try {
              files = filesOf(path).map((file) => ({ text: readFileSync(file, 'utf8'), file }))
            } catch (err) {
              const e = err as NodeJS.ErrnoException
              throw new ManifestError(
                `cannot read ${src}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.message}`,
                { cause: err },
              )
            }
            if (files.length === 0)
              throw new ManifestError(`${src}: no .yaml, .yml or .json files in this directory`)
            return files
          })()
    for (const { text, file } of docs) {
      const { objects, findings } = loadYaml(text, file)
      if (hasErrors(findings)) throw new Error(findings.map(formatFinding).join('\n'))
      if (objects.length === 0)
        throw new ManifestError(
          `${src === '-' ? '<stdin>' : file}: no objects to apply (the ${src === '-' ? 'input' : 'file'} is empty or holds only comments)`,
        )
      for (const o of objects) {
        const obj = o.object
        if (namespace) {
          const meta = (obj.metadata ?? {}) as Record<string, unknown>
          if (meta.namespace !== undefined && meta.namespace !== namespace) {
            throw new Error(
              `${file}: ${String(obj.kind)} ${String(meta.name)} is in namespace ${String(meta.namespace)}, not ${namespace} (-n)`,
            )
          }
          if (
            obj.kind !== 'Namespace' &&
            !/^(Cluster|CustomResourceDefinition|MutatingWebhook|ValidatingWebhook)/.test(String(obj.kind))
          )
            obj.metadata = { ...meta, namespace }
        }
        out.push(obj)
      }
    }
  }
  return out
}
