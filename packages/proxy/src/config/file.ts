// The static configuration file (`mesh-proxy --config FILE`): YAML or JSON with arrays
// `listeners`, `routes`, `clusters`, `endpoints` (and `virtualHosts`, for routes with `vhds`) of
// config-model objects. Validated like a
// discovery response before anything is applied.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { ProxyError } from '../errors.ts'
import type { StaticConfig } from './validate.ts'

const KEYS = new Set(['listeners', 'routes', 'clusters', 'endpoints', 'virtualHosts'])

/** JSON is parsed directly; the YAML parser (several MB of heap) is loaded only for YAML text. */
function parse(text: string): unknown {
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text)
    } catch {
      // not strict JSON: let the YAML parser read it (and word any error)
    }
  }
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  return yaml.parse(text)
}

export function parseStaticConfig(text: string, file = '<config>'): StaticConfig {
  let doc: unknown
  try {
    doc = parse(text)
  } catch (cause) {
    throw new ProxyError(
      'MESH_ERR_PROXY_CONFIG_FILE',
      `${file}: not YAML or JSON: ${(cause as Error).message}`,
      { cause },
    )
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ProxyError(
      'MESH_ERR_PROXY_CONFIG_FILE',
      `${file}: expected an object with listeners, routes, clusters, endpoints (virtualHosts)`,
    )
  }
  for (const [k, v] of Object.entries(doc)) {
    if (!KEYS.has(k)) throw new ProxyError('MESH_ERR_PROXY_CONFIG_FILE', `${file}: unknown key ${k}`)
    if (!Array.isArray(v))
      throw new ProxyError('MESH_ERR_PROXY_CONFIG_FILE', `${file}: ${k} must be an array`)
  }
  return doc as StaticConfig
}

export async function loadStaticConfig(file: string): Promise<StaticConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw new ProxyError('MESH_ERR_PROXY_CONFIG_FILE', `cannot read ${file}: ${(cause as Error).message}`, {
      cause,
    })
  }
  return parseStaticConfig(text, file)
}
