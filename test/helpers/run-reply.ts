/**
 * A /run reply with its nested outputs flattened back to their names, so tests read
 * `outputs['enrich.results.verdict']`.
 */
import { flattenOutputs, type NestedOutputs } from '../../src/contract/outputs.js'

export interface RunReply {
  exitCode: number
  exitMessage: string
  outputs: Record<string, string | (string | null)[]>
}

export const runReply = (res: { json: <T>() => T }): RunReply => {
  const body = res.json<{ exitCode: number; exitMessage: string; outputs: NestedOutputs }>()
  return { ...body, outputs: flattenOutputs(body.outputs) as RunReply['outputs'] }
}
