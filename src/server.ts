/** Entry point: settings from the environment, one app instance, listen; stop cleanly on SIGTERM/SIGINT. */
import { buildApp } from './app.js'
import { ConfigError, loadServiceConfig } from './config/env.js'
import { SOURCE_DEFINITIONS } from './sources/registry.js'

const main = async (): Promise<void> => {
  let config
  try {
    config = loadServiceConfig(process.env, SOURCE_DEFINITIONS)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n(see docs/user-guide.md, "Settings")\n`)
      process.exit(2)
    }
    throw err
  }
  const app = await buildApp({ config })
  const stop = async (signal: string): Promise<void> => {
    app.log.info({ signal }, 'stopping: no new requests, finishing those in flight')
    await app.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => void stop('SIGTERM'))
  process.once('SIGINT', () => void stop('SIGINT'))
  await app.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`the service could not start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
