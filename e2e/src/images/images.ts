// Shared by the image tests: the images under test (kind/images.txt, the one list `make images`
// builds) and small helpers over testcontainers' started containers.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { StartedTestContainer } from 'testcontainers'

const IMAGES_TXT = fileURLToPath(new URL('../../../kind/images.txt', import.meta.url))

/** The image of kind/images.txt whose name (without registry and tag) is `name`, e.g. `meshd`. */
export function image(name: string): string {
  const names = readFileSync(IMAGES_TXT, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/)[0] ?? '')
    .filter((ref) => ref !== '')
  const found = names.find(
    (ref) =>
      ref
        .replace(/:[^:/]*$/, '')
        .split('/')
        .pop() === name,
  )
  if (!found) throw new Error(`no image named ${name} in kind/images.txt (has: ${names.join(', ')})`)
  return found
}

/** The real, effective and saved uid of the container's main process (pid 1), from /proc. */
export async function mainProcessUids(container: StartedTestContainer): Promise<number[]> {
  const { exitCode, output } = await container.exec(['cat', '/proc/1/status'])
  if (exitCode !== 0) throw new Error(`cat /proc/1/status failed (${exitCode}): ${output}`)
  const line = output.split('\n').find((l) => l.startsWith('Uid:'))
  if (!line) throw new Error(`no Uid line in /proc/1/status: ${output}`)
  return line.split(/\s+/).slice(1, 4).map(Number)
}

/** The command line of the container's main process (pid 1). */
export async function mainProcessCommand(container: StartedTestContainer): Promise<string[]> {
  const { exitCode, output } = await container.exec(['cat', '/proc/1/cmdline'])
  if (exitCode !== 0) throw new Error(`cat /proc/1/cmdline failed (${exitCode}): ${output}`)
  return output.split('\0').filter((arg) => arg !== '')
}

/** The URL of a container port as the host reaches it. */
export function url(container: StartedTestContainer, port: number, path = '/'): string {
  return `http://${container.getHost()}:${container.getMappedPort(port)}${path}`
}
