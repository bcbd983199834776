// The image table tests use: stand-in images that run small scripts of this package, plus a
// `test/shell` image whose command runs as a host command in the pod (like a busybox image).
import { fileURLToPath } from 'node:url'
import { defaultImageTable, type ImageEntry } from '../images.ts'

export const ECHO_SERVER = fileURLToPath(new URL('./echo-server.ts', import.meta.url))

const PROXY_STAND_IN = fileURLToPath(new URL('./proxy-stand-in.ts', import.meta.url))

/**
 * `minimesh/proxy` with the real mesh-init (iptables in the pod netns) and a stand-in sidecar.
 */
export function proxyImageWithStandInSidecar(): ImageEntry {
  const real = defaultImageTable().find((e) => e.image === 'minimesh/proxy')!
  return { ...real, binaries: { ...real.binaries, 'mesh-proxy': [process.execPath, PROXY_STAND_IN] } }
}

export function standInImages(): ImageEntry[] {
  return [
    {
      image: 'test/echo',
      binaries: { 'echo-server': [process.execPath, ECHO_SERVER] },
      entrypoint: 'echo-server',
    },
    { image: 'test/shell', binaries: { sh: ['/bin/sh'] }, entrypoint: 'sh', anyCommand: true },
  ]
}
