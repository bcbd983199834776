import { readFileSync } from 'node:fs'
import { commandOptions } from './options.ts'
import type { Command } from './types.ts'

export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

const OPTIONS = commandOptions({}, 'meshctl version')

export const version: Command = {
  name: 'version',
  summary: 'print the meshctl version',
  usage: OPTIONS.usage(),
  async run(args, io) {
    OPTIONS.parse(args)
    io.out(`meshctl ${cliVersion()} (node ${process.versions.node})\n`)
    return 0
  },
}
