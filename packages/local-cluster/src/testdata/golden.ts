// Golden files of this package, in ./golden/: @minimesh/api's expectGolden (UPDATE_GOLDEN=1 rewrites).
import { expectGolden as expectGoldenFile } from '@minimesh/api/testing'

export function expectGolden(name: string, actual: string): void {
  expectGoldenFile(new URL(`./golden/${name}`, import.meta.url), actual)
}
