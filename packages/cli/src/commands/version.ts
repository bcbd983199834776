import { readFileSync } from 'node:fs'
import type { Command } from './types.ts'

export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

export const version: Command = {
  name: 'version',
  summary: 'print the meshctl version',
  usage: 'meshctl version',
  async run(_args, io) {
    io.out(`meshctl ${cliVersion()} (node ${process.versions.node})\n`)
    return 0
  },
}
