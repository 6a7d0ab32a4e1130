/** Reply schemas of POST /run, derived from the contract's outputs (the body schema comes from its params). */
import { Type, type TSchema, type TObject } from 'typebox'
import type { DeclaredOutput, OutputIndex } from '../contract/outputs.js'

const item = Type.Union([Type.String(), Type.Null()])

const leafSchema = (out: DeclaredOutput): TSchema =>
  out.shape === 'scalar'
    ? Type.Union([Type.String(), Type.Array(item)], {
        description: `${out.note} String; for an array of indicators, one per indicator.`,
      })
    : Type.Array(item, {
        description: `${out.note} StringArray; for an array of indicators, one "|"-joined list per indicator.`,
      })

interface Tree {
  leaves: Map<string, DeclaredOutput>
  branches: Map<string, Tree>
}

const toSchema = (tree: Tree, description?: string): TObject => {
  const properties: Record<string, TSchema> = {}
  for (const [segment, out] of tree.leaves) properties[segment] = Type.Optional(leafSchema(out))
  for (const [segment, sub] of tree.branches) properties[segment] = Type.Optional(toSchema(sub))
  return Type.Object(properties, { additionalProperties: false, ...(description === undefined ? {} : { description }) })
}

/** The outputs object: nested by the dots of each declared name; a value that does not exist is left out. */
const deriveOutputsSchema = (index: OutputIndex): TObject => {
  const root: Tree = { leaves: new Map(), branches: new Map() }
  for (const out of index.byName.values()) {
    let node = root
    for (const segment of out.path.slice(0, -1)) {
      let next = node.branches.get(segment)
      if (next === undefined) node.branches.set(segment, (next = { leaves: new Map(), branches: new Map() }))
      node = next
    }
    node.leaves.set(out.path[out.path.length - 1] as string, out)
  }
  return toSchema(
    root,
    'The declared outputs, nested by the dots of their names: enrich.results.verdict is outputs.enrich.results.verdict.',
  )
}

export const deriveRunReplySchema = (index: OutputIndex): TObject =>
  Type.Object({
    exitCode: Type.Union([Type.Literal(0), Type.Literal(1)], {
      description: '0 success, 1 failure (as a native Playbook app).',
    }),
    exitMessage: Type.String({ maxLength: 255 }),
    outputs: deriveOutputsSchema(index),
  })
