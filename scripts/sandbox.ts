/**
 * `npm run sandbox`: the local ThreatConnect stand-in on 127.0.0.1 for trying write-back without a platform.
 * Development only; it keeps everything in memory and forgets it on exit.
 */
import { pino } from 'pino'
import { buildSandbox } from '../tools/tc-sandbox/app.js'

const DEV_DEFAULTS = {
  SANDBOX_ACCESS_ID: 'sandbox-access-id',
  SANDBOX_SECRET_KEY: 'sandbox-secret-key',
  SANDBOX_TOKEN: 'sandbox-token',
  SANDBOX_OWNERS: 'Sandbox Organization,Sandbox Community',
} as const

const setting = (name: keyof typeof DEV_DEFAULTS): { value: string; defaulted: boolean } => {
  const raw = process.env[name]
  return raw === undefined || raw === ''
    ? { value: DEV_DEFAULTS[name], defaulted: true }
    : { value: raw, defaulted: false }
}

const main = async (): Promise<void> => {
  const portText = process.env['SANDBOX_PORT'] ?? '8090'
  if (!/^\d+$/.test(portText) || Number(portText) > 65535)
    throw new Error(`SANDBOX_PORT: '${portText}' is not a port number`)
  const accessId = setting('SANDBOX_ACCESS_ID')
  const secretKey = setting('SANDBOX_SECRET_KEY')
  const token = setting('SANDBOX_TOKEN')
  const owners = setting('SANDBOX_OWNERS')
    .value.split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '')

  const log = pino({ level: process.env['LOG_LEVEL'] ?? 'info' })
  const app = buildSandbox({
    accessId: accessId.value,
    secretKey: secretKey.value,
    token: token.value,
    owners,
    log,
    seed: [{ type: 'Address', value: '8.8.8.8', tags: ['Sandbox Seed'], posts: ['Seeded by the sandbox.'] }],
  })
  const address = await app.listen({ host: '127.0.0.1', port: Number(portText) })

  const shown = (s: { value: string; defaulted: boolean }, secret: boolean): string =>
    s.defaulted ? `${s.value}   (development default)` : secret ? '(from the environment)' : s.value
  process.stdout.write(
    [
      '',
      `ThreatConnect sandbox (development stand-in, NOT ThreatConnect) listening on ${address}`,
      `  owners:      ${owners.join(', ')}`,
      `  access id:   ${shown(accessId, false)}`,
      `  secret key:  ${shown(secretKey, true)}`,
      `  token:       ${shown(token, true)}`,
      '',
      'Point the service at it:',
      `  TC_API_PATH=${address} TC_API_ACCESS_ID=${accessId.defaulted ? accessId.value : '<access id>'} TC_API_SECRET_KEY=${secretKey.defaulted ? secretKey.value : '<secret key>'}`,
      '',
    ].join('\n'),
  )

  const stop = (): void => {
    void app.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
