import { existsSync } from 'node:fs'
import { createWebhookServer, type InjectConfig, type NamespaceLookup } from '@minimesh/injector'
import type { Logger } from 'pino'
import { ControlPlaneError } from './errors.ts'
import { splitAddress } from './monitoring/server.ts'

export interface WebhookOptions {
  address: string
  certFile?: string
  keyFile?: string
  /** Namespace labels for the injection policy (meshd answers from its registry). */
  namespaceLookup?: NamespaceLookup
  /** Injection settings (meshd's CA root as caRootCert, …); defaults for the rest. */
  injectConfig?: Partial<InjectConfig>
  logger?: Logger
}

export interface WebhookHandle {
  address: string
  close(): Promise<void>
}

/**
 * The injection (`/inject`) and validation (`/validate`) webhooks on 15017 over HTTPS, served by
 * @minimesh/injector's server with `--webhook-cert/--webhook-key`. Without a certificate and key
 * no webhook is served (logged).
 */
export async function startWebhooks(options: WebhookOptions): Promise<WebhookHandle | undefined> {
  const log = options.logger
  if (!options.certFile || !options.keyFile) {
    log?.info('webhooks: not served (no --webhook-cert/--webhook-key)')
    return undefined
  }
  for (const f of [options.certFile, options.keyFile])
    if (!existsSync(f))
      throw new ControlPlaneError('MESH_ERR_MESHD_WEBHOOK', `webhook certificate or key ${f} does not exist`)
  const { host, port } = splitAddress(options.address)
  let server: ReturnType<typeof createWebhookServer>
  try {
    server = createWebhookServer({
      certFile: options.certFile,
      keyFile: options.keyFile,
      namespaceLookup: options.namespaceLookup,
      config: options.injectConfig,
      logger: log,
    })
  } catch (err) {
    throw new ControlPlaneError(
      'MESH_ERR_MESHD_WEBHOOK',
      `cannot serve the webhooks: ${(err as Error).message}`,
      { cause: err },
    )
  }
  try {
    const bound = await server.listen(port, host)
    return { address: `${host}:${bound.port}`, close: () => server.close() }
  } catch (err) {
    await server.close().catch(() => {})
    const code = (err as NodeJS.ErrnoException).code
    throw new ControlPlaneError(
      code === 'EADDRINUSE' ? 'MESH_ERR_MESHD_PORT_IN_USE' : 'MESH_ERR_MESHD_LISTEN',
      `cannot listen for webhooks on ${options.address}: ${code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message}`,
      { cause: err },
    )
  }
}
