/** Reply schemas of POST /run, derived from the contract's outputs (the body schema comes from its params). */
import { Type, type TSchema, type TObject } from 'typebox'
import type { OutputIndex } from '../contract/outputs.js'

const item = Type.Union([Type.String(), Type.Null()])

export const deriveOutputsSchema = (index: OutputIndex): TObject => {
  const properties: Record<string, TSchema> = {}
  for (const out of index.byName.values()) {
    const schema =
      out.shape === 'scalar'
        ? Type.Union([Type.String(), Type.Array(item)], { description: `${out.note} String; StringArray for an array of indicators.` })
        : Type.Array(item, { description: `${out.note} StringArray.` })
    properties[out.name] = Type.Optional(schema)
  }
  return Type.Object(properties, { additionalProperties: false, description: 'Declared outputs only; a value that does not exist is left out.' })
}

export const deriveRunReplySchema = (index: OutputIndex): TObject =>
  Type.Object({
    exitCode: Type.Union([Type.Literal(0), Type.Literal(1)], { description: '0 success, 1 failure (as a native Playbook app).' }),
    exitMessage: Type.String({ maxLength: 255 }),
    outputs: deriveOutputsSchema(index),
    variables: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'Only when tc_playbook_out_variables is sent: exactly the requested variables, keyed by the full variable, values as the KV store holds them (decoded).',
      }),
    ),
  })
