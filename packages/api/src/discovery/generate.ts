/**
 * Generates TypeScript types for the .proto files into src/gen (the `generate` task), with
 * proto-loader-gen-types. `--check` regenerates into a temporary folder and fails when src/gen
 * differs (stale generated code).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = fileURLToPath(new URL('../..', import.meta.url))
const PROTOS = [
  'minimesh/discovery/v1/discovery.proto',
  'minimesh/quota/v1/quota.proto',
  'minimesh/security/v1/ca.proto',
]

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

export function generate(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true })
  const bin = join(pkg, 'node_modules/.bin/proto-loader-gen-types')
  execFileSync(
    bin,
    [
      ...PROTOS,
      '--keepCase',
      '--longs=String',
      '--enums=String',
      '--defaults',
      '--oneofs',
      '--grpcLib=@grpc/grpc-js',
      `--outDir=${outDir}`,
      '--importFileExtension=.ts',
      `--includeDirs=${join(pkg, 'proto')}`,
    ],
    { stdio: 'inherit' },
  )
  // The generator names each source by absolute path; keep the output the same in every checkout.
  for (const file of walk(outDir)) {
    const text = readFileSync(file, 'utf8')
    writeFileSync(file, text.replaceAll(`Original file: ${join(pkg, 'proto')}/`, 'Original file: proto/'))
  }
}

export function checkGenerated(): string[] {
  const tmp = mkdtempSync(join(tmpdir(), 'minimesh-gen-'))
  try {
    generate(tmp)
    const cur = join(pkg, 'src/gen')
    const a = walk(tmp)
      .map((f) => relative(tmp, f))
      .sort()
    const b = walk(cur)
      .map((f) => relative(cur, f))
      .sort()
    const stale = new Set([...a.filter((f) => !b.includes(f)), ...b.filter((f) => !a.includes(f))])
    for (const f of a)
      if (b.includes(f) && readFileSync(join(tmp, f), 'utf8') !== readFileSync(join(cur, f), 'utf8'))
        stale.add(f)
    return [...stale]
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const stale = checkGenerated()
    if (stale.length) {
      console.error(`generated code is stale: ${stale.join(', ')}; run \`pnpm generate\``)
      process.exit(1)
    }
  } else generate(join(pkg, 'src/gen'))
}
