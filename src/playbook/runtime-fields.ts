/**
 * The platform's runtime fields a /run body may carry besides the app's params (TcEx 4 names): which variables
 * downstream steps asked for, and where the playbook's key-value store (Redis) is. All optional.
 */
import { Type, type TSchema } from 'typebox'

/** 1-65535 as decimal text: the platform sends every input as a string. */
const PORT_TEXT = '^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$'

export const DEFAULT_KVSTORE_HOST = 'localhost'
export const DEFAULT_KVSTORE_PORT = 6379

export const PLAYBOOK_RUNTIME_FIELDS: Readonly<Record<string, TSchema>> = {
  tc_playbook_out_variables: Type.Optional(
    Type.Union([Type.String({ maxLength: 65536 }), Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 1000 })], {
      description:
        'The full variables downstream steps asked for, e.g. "#App:9876:enrich.verdict!String", as a comma-separated ' +
        "string or an array. The reply's `variables` then holds exactly these; one this app does not declare is a 400.",
    }),
  ),
  tc_playbook_kvstore_context: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'Key-value store context: the Redis hash the requested variables are also written to (HSET <context> <variable> <value>).',
    }),
  ),
  tc_kvstore_host: Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, description: `Key-value store (Redis) host; default ${DEFAULT_KVSTORE_HOST}.` }),
  ),
  tc_kvstore_port: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 65535 }), Type.String({ pattern: PORT_TEXT })], {
      description: `Key-value store (Redis) port, a number or decimal text; default ${DEFAULT_KVSTORE_PORT}.`,
    }),
  ),
}

export interface KvStoreTarget {
  readonly host: string
  readonly port: number
  readonly context: string
}

/** Where to write variables, from a body that passed the schema; null when no context was given (nothing to write). */
export const kvStoreTargetOf = (body: Readonly<Record<string, unknown>>): KvStoreTarget | null => {
  const context = body['tc_playbook_kvstore_context']
  if (typeof context !== 'string' || context === '') return null
  const host = body['tc_kvstore_host']
  const port = body['tc_kvstore_port']
  return {
    host: typeof host === 'string' && host !== '' ? host : DEFAULT_KVSTORE_HOST,
    port: typeof port === 'number' || typeof port === 'string' ? Number(port) : DEFAULT_KVSTORE_PORT,
    context,
  }
}
