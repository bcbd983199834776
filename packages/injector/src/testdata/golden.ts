// Golden files of this package, in ./golden/: @minimesh/api's expectGolden (UPDATE_GOLDEN=1 rewrites).
// A golden that no test wrote any more is stale and fails (checkNoStaleGoldens).
import { expectGolden as expectGoldenFile, expectNoStaleGoldens } from '@minimesh/api/testing'

const GOLDEN_DIR = new URL('./golden/', import.meta.url)

export function expectGolden(name: string, actual: string): void {
  expectGoldenFile(new URL(name, GOLDEN_DIR), actual)
}

/** Call after every golden of the directory was checked: files no test produced are stale. */
export function checkNoStaleGoldens(): void {
  expectNoStaleGoldens(GOLDEN_DIR, [''])
}
