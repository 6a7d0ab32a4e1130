/**
 * The playbook side of a /run: which variables the platform asked for (checked against the contract before any
 * work is done), the reply's `variables`, and the same values written to the KV store like a native app.
 */
import { AppError } from '../errors.js'
import type { OutputIndex } from '../contract/outputs.js'
import type { Outputs } from '../enrich/outputs.js'
import { writeVariables } from './kvstore.js'
import { kvStoreTargetOf } from './runtime-fields.js'
import { encodeVariables, parseOutVariables, resolveRequestedVariables, selectVariables, type PlaybookVariable, type PlatformValue } from './variables.js'

const FIELD = 'tc_playbook_out_variables'

/** The requested variables, or undefined when the platform asked for none; a 400 naming any undeclared one. */
export const requestedVariables = (body: Readonly<Record<string, unknown>>, index: OutputIndex): readonly PlaybookVariable[] | undefined => {
  const raw = body[FIELD]
  if (raw === undefined) return undefined
  const parsed = parseOutVariables(raw as string | string[])
  if (!parsed.ok) throw new AppError('INVALID_PARAM', `${FIELD}: '${parsed.text}' is not a variable like #App:1234:enrich.verdict!String (${parsed.reason})`, FIELD)
  const resolved = resolveRequestedVariables(parsed.variables, index)
  if (!resolved.ok) throw new AppError('UNKNOWN_VARIABLE', resolved.reason, FIELD)
  return resolved.variables
}

export interface DeliveredVariables {
  readonly variables: Record<string, PlatformValue | null> | undefined
  /** Why the KV store write failed, when it did (fails the run, as it would a native app). */
  readonly kvFailure: string | undefined
}

export const deliverVariables = async (
  body: Readonly<Record<string, unknown>>,
  requested: readonly PlaybookVariable[] | undefined,
  outputs: Outputs,
  timeoutMs: number,
): Promise<DeliveredVariables> => {
  if (requested === undefined) return { variables: undefined, kvFailure: undefined }
  const variables = selectVariables(requested, outputs)
  const target = kvStoreTargetOf(body)
  if (target === null) return { variables, kvFailure: undefined }
  const written = await writeVariables({ ...target, values: encodeVariables(requested, outputs), timeoutMs })
  return { variables, kvFailure: written.ok ? undefined : `outputs not written to the KV store: ${written.reason}` }
}
