// The image table: this project's images mapped to entrypoints in the checkout, so a container
// `image: minimesh/proxy:0.1.0, command: [mesh-proxy]` runs `node … packages/proxy/src/main.ts`.
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Container, PodSpec } from '@minimesh/api/kube'
import { LocalClusterError } from './errors.ts'

export interface ImageEntry {
  /** Repository without registry and tag: `minimesh/proxy`. */
  image: string
  /** The image's binaries: a container's command[0] names one; the value is the argv that runs it here. */
  binaries: Record<string, string[]>
  /** The binary an image runs when the container gives no command (its ENTRYPOINT). */
  entrypoint?: string
  /** The container's command is run as a host command in the pod's netns (stand-in test images). */
  anyCommand?: boolean
  /** The tags built of this image (kind/images.txt); absent: any tag runs. */
  tags?: readonly string[]
  /** The control plane: runs in the host netns on the bridge address, with `--config-dir <state dir>` added. */
  controlPlane?: boolean
}

export type ImageTable = readonly ImageEntry[]

/** The checkout this package runs from (…/packages/local-cluster/src → …). */
export function checkoutRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '')
}

/** argv that runs a TypeScript entry of the checkout with this Node and the source condition. */
export function nodeEntry(root: string, file: string): string[] {
  return [process.execPath, '--conditions=@minimesh/source', join(root, file)]
}

const BOOKINFO_APPS = ['productpage', 'details', 'reviews', 'ratings'] as const

/** image → tags, from the checkout's kind/images.txt (`minimesh/meshd:0.1.0  Dockerfile …`). */
function builtTags(root: string): Map<string, string[]> {
  const tags = new Map<string, string[]>()
  const file = join(root, 'kind/images.txt')
  if (!existsSync(file)) return tags
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const ref = line.replace(/#.*/, '').trim().split(/\s+/)[0]
    const m = ref ? /^(.+):([^:/]+)$/.exec(ref) : null
    if (m) tags.set(m[1]!, [...(tags.get(m[1]!) ?? []), m[2]!])
  }
  return tags
}

/** The project's images (DESIGN.md "Images", contracts "Binaries in the checkout"). */
export function defaultImageTable(root = checkoutRoot()): ImageEntry[] {
  const tags = builtTags(root)
  return withTags(tags, [
    {
      image: 'minimesh/proxy',
      binaries: {
        'mesh-proxy': nodeEntry(root, 'packages/proxy/src/main.ts'),
        'mesh-init': nodeEntry(root, 'packages/init/src/main.ts'),
        // The image is built FROM node: a Job or a test pod may run `node -e …` in it.
        node: [process.execPath],
      },
      entrypoint: 'mesh-proxy',
    },
    {
      image: 'minimesh/meshd',
      binaries: { meshd: nodeEntry(root, 'packages/control-plane/src/main.ts') },
      entrypoint: 'meshd',
      controlPlane: true,
    },
    ...BOOKINFO_APPS.map((app) => ({
      image: `minimesh/bookinfo-${app}`,
      binaries: { [app]: nodeEntry(root, `apps/bookinfo/${app}/src/main.ts`) },
      entrypoint: app,
    })),
  ])
}

function withTags(tags: Map<string, string[]>, table: ImageEntry[]): ImageEntry[] {
  return table.map((e) => (tags.has(e.image) ? { ...e, tags: tags.get(e.image)! } : e))
}

/** `minimesh/proxy:0.1.0` → `0.1.0`; no tag → `latest`; a digest → undefined (not checked). */
export function imageTag(image: string): string | undefined {
  if (image.includes('@')) return undefined
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  return colon > slash ? image.slice(colon + 1) : 'latest'
}

/** `registry.example:5000/minimesh/proxy:0.1.0@sha256:…` → `minimesh/proxy`. */
export function imageRepository(image: string): string {
  let s = image.split('@')[0] ?? image
  const slash = s.lastIndexOf('/')
  const colon = s.lastIndexOf(':')
  if (colon > slash) s = s.slice(0, colon)
  const parts = s.split('/')
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift()
  if (parts[0] === 'library' && parts.length > 1) parts.shift()
  return parts.join('/')
}

export function findImage(table: ImageTable, image: string | undefined): ImageEntry | undefined {
  if (!image) return undefined
  const repo = imageRepository(image)
  return table.find((e) => e.image === repo)
}

/**
 * The argv that runs a container: the image's binary named by `command[0]` (or its entrypoint)
 * followed by the rest of command and args, as Kubernetes combines ENTRYPOINT/CMD with command/args.
 * Throws MESH_ERR_LOCAL_IMAGE for an image or binary with no local entrypoint.
 */
export function containerArgv(
  table: ImageTable,
  c: Container,
): {
  argv: string[]
  entry: ImageEntry /** How many leading argv items come from the image table. */
  fromImage: number
} {
  const entry = findImage(table, c.image)
  if (!entry) {
    const known = table.map((e) => e.image).join(', ')
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_IMAGE',
      `container "${c.name}": image "${c.image ?? ''}" has no local entrypoint in the image table (known: ${known})`,
    )
  }
  const tag = imageTag(c.image!)
  if (entry.tags && tag !== undefined && !entry.tags.includes(tag)) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_IMAGE',
      `container "${c.name}": image "${c.image}": tag "${tag}" does not exist here (this checkout's ${entry.image} is tagged ${entry.tags.join(', ')})`,
    )
  }
  const command = c.command ?? []
  const args = c.args ?? []
  if (entry.anyCommand && command.length > 0) return { argv: [...command, ...args], entry, fromImage: 0 }
  const bin = command.length > 0 ? basename(command[0]!) : entry.entrypoint
  const run = bin === undefined ? undefined : entry.binaries[bin]
  if (!run) {
    throw new LocalClusterError(
      'MESH_ERR_LOCAL_IMAGE',
      `container "${c.name}": image "${c.image}" has no local entrypoint for ${bin === undefined ? 'an empty command' : `command "${bin}"`} (it has: ${Object.keys(entry.binaries).join(', ')})`,
    )
  }
  return { argv: [...run, ...command.slice(1), ...args], entry, fromImage: run.length }
}

/** Entries whose checkout file is missing (a package not built into this checkout yet). */
export function missingEntrypoints(table: ImageTable): string[] {
  const missing: string[] = []
  for (const e of table)
    for (const [bin, argv] of Object.entries(e.binaries)) {
      const file = argv.find((a) => a.endsWith('.ts') || a.endsWith('.js'))
      if (file && !existsSync(file)) missing.push(`${e.image} ${bin}: ${file}`)
    }
  return missing
}

/**
 * Checks, before anything is stored, that every container of a pod spec has an image that runs
 * here (a Pod's own spec, or a Deployment's or Job's template). Errors name `owner` first.
 */
export function checkImages(table: ImageTable, spec: PodSpec, owner: string): void {
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (!c.image)
      throw new LocalClusterError('MESH_ERR_LOCAL_INVALID', `${owner}: container "${c.name}": no image`)
    try {
      containerArgv(table, c)
    } catch (err) {
      const e = err as LocalClusterError
      throw new LocalClusterError(e.code, `${owner}: ${e.message}`, { cause: err })
    }
  }
}
