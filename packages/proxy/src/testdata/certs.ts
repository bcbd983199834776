// Throwaway certificates for TLS tests, made with the `openssl` CLI (OpenSSL 3: `req -x509 -CA`)
// in a temporary directory: ECDSA P-256, valid for a day.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Why TLS tests cannot run here, or undefined when `openssl` (3.x) is available. */
export function opensslMissing(): string | undefined {
  try {
    const v = execFileSync('openssl', ['version'], { encoding: 'utf8' })
    return /^OpenSSL [3-9]\./.test(v) ? undefined : `needs OpenSSL 3 for "req -x509 -CA", found ${v.trim()}`
  } catch {
    return 'needs the openssl command (apt-get install -y openssl)'
  }
}

export interface CertDir {
  dir: string
  /** Path of `<name>.pem` / `<name>.key` in the directory. */
  pem(name: string): string
  key(name: string): string
  /** A self-signed CA `<name>`. */
  ca(name: string): void
  /** A leaf `<name>` signed by CA `<ca>`, with subject CN and subject alt names (`DNS:…`, `URI:…`). */
  leaf(name: string, ca: string, cn: string, sans: string[]): void
  remove(): void
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1']

export function certDir(): CertDir {
  const dir = mkdtempSync(join(tmpdir(), 'minimesh-tls-'))
  const pem = (n: string) => join(dir, `${n}.pem`)
  const key = (n: string) => join(dir, `${n}.key`)
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  return {
    dir,
    pem,
    key,
    ca(name) {
      openssl([
        'req',
        '-x509',
        ...EC,
        '-keyout',
        key(name),
        '-out',
        pem(name),
        '-subj',
        `/CN=${name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      ])
    },
    leaf(name, ca, cn, sans) {
      openssl([
        'req',
        '-x509',
        '-CA',
        pem(ca),
        '-CAkey',
        key(ca),
        ...EC,
        '-keyout',
        key(name),
        '-out',
        pem(name),
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'extendedKeyUsage=serverAuth,clientAuth',
        '-addext',
        `subjectAltName=${sans.join(',')}`,
      ])
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
