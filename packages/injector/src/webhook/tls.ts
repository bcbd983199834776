// The serving certificate, reloaded when its files change. The directories are watched rather
// than the files: Kubernetes updates a mounted Secret by swapping a symlink, and tools replace
// files by rename, both of which a watch on the old file would miss.
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { dirname } from 'node:path'
import { createSecureContext } from 'node:tls'
import type { Logger } from 'pino'
import { InjectError } from '../errors.ts'

export interface KeyPair {
  key: string
  cert: string
}

/** Reads and checks a key pair (that the key matches the certificate); throws MESH_ERR_INJECT_CERTIFICATE. */
export function readKeyPair(certFile: string, keyFile: string): KeyPair {
  let pair: KeyPair
  try {
    pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }
  } catch (cause) {
    throw new InjectError(
      'MESH_ERR_INJECT_CERTIFICATE',
      `cannot read ${certFile} / ${keyFile}: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
  try {
    createSecureContext(pair)
  } catch (cause) {
    throw new InjectError(
      'MESH_ERR_INJECT_CERTIFICATE',
      `${certFile} and ${keyFile} are not a usable certificate and key: ${(cause as Error).message}`,
      { cause },
    )
  }
  return pair
}

export interface CertificateWatch {
  close(): void
  /** Reads the files now; resolves true when a new pair was installed. */
  reload(): boolean
}

/**
 * Calls `install` with the new pair whenever the files change to a different, valid pair. A half
 * written pair (key and certificate not matching yet) is skipped with a warning; the old one stays.
 */
export function watchCertificate(
  certFile: string,
  keyFile: string,
  current: KeyPair,
  install: (pair: KeyPair) => void,
  logger: Logger,
): CertificateWatch {
  let last = current
  let timer: NodeJS.Timeout | undefined
  const reload = (): boolean => {
    let pair: KeyPair
    try {
      pair = readKeyPair(certFile, keyFile)
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        'serving certificate not reloaded; keeping the current one',
      )
      return false
    }
    if (pair.cert === last.cert && pair.key === last.key) return false
    install(pair)
    last = pair
    logger.info({ certFile }, 'serving certificate reloaded')
    return true
  }
  const onEvent = () => {
    clearTimeout(timer)
    timer = setTimeout(reload, 50)
  }
  const watchers: FSWatcher[] = [...new Set([dirname(certFile), dirname(keyFile)])].map((dir) => {
    const w = watch(dir, { persistent: false }, onEvent)
    w.on('error', (err) => logger.warn({ err: err.message, dir }, 'certificate directory watch failed'))
    return w
  })
  return {
    reload,
    close() {
      clearTimeout(timer)
      for (const w of watchers) w.close()
    },
  }
}
