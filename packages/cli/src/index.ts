export { COMMANDS } from './commands/index.ts'
export type { Command, CommandIo } from './commands/types.ts'
export * from './install/index.ts'
export { runCli } from './run.ts'
