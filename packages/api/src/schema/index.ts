export * from './builders.ts'
export { durationMs, parseDuration } from './duration.ts'
export * from './object.ts'
export * from './types.ts'
