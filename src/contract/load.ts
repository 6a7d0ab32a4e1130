/** Reads and checks the app's contract at start-up. Sync on purpose: nothing else runs until it is loaded. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ContractError } from '../errors.js'
import type { ContractProblem } from '../errors.js'
import type { AppConfig, Contract, Layout } from './types.js'
import { CONFIG_FILE, findProjectRoot } from './project-root.js'
import { validateContract } from './validate.js'
import type { SourceOutputs } from './validate.js'

/** Relative to the project root, '/'-separated: also the names used in messages. */
export const LAYOUT_FILE = 'layouts/layout.json'

export interface LoadContractOptions {
  /** Folder holding app.config.json; found by walking up from this module when omitted. */
  readonly root?: string
  /** The source registry (ids and published outputs); turns on the per-source checks. */
  readonly sources?: readonly SourceOutputs[]
}

type ReadResult = { ok: true; value: unknown } | { ok: false; problem: ContractProblem }

const lineAndColumn = (text: string, offset: number): { line: number; column: number } => {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return { line, column: offset - before.lastIndexOf('\n') }
}

const parseFailureOffset = (text: string, error: unknown): number | undefined => {
  const message = error instanceof Error ? error.message : ''
  const match = /at position (\d+)/.exec(message)
  return match === null ? undefined : Number(match[1])
}

/** A prefix is viable when it parses or fails only for running out of input. */
const isViablePrefix = (prefix: string): boolean => {
  try {
    JSON.parse(prefix)
    return true
  } catch (error) {
    if (error instanceof Error && /end of JSON input/.test(error.message)) return true
    const offset = parseFailureOffset(prefix, error)
    return offset !== undefined && offset >= prefix.length
  }
}

/**
 * Offset of the character JSON.parse choked on. V8 names it in most messages ("at position N") but
 * not in "Unexpected token"; then the first non-viable prefix finds it (binary search: viability only
 * ever turns from true to false as the prefix grows).
 */
export const jsonErrorOffset = (text: string, error: unknown): number => {
  const named = parseFailureOffset(text, error)
  if (named !== undefined) return named
  if (isViablePrefix(text)) return text.length
  let low = 0
  let high = text.length
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2)
    if (isViablePrefix(text.slice(0, mid))) low = mid
    else high = mid
  }
  return high - 1
}

const readJson = (root: string, file: string): ReadResult => {
  let text: string
  try {
    // A leading byte-order mark is legal in a file but not in JSON.parse input.
    text = readFileSync(join(root, ...file.split('/')), 'utf8').replace(/^\uFEFF/, '')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const rule = code === 'ENOENT' ? 'file-missing' : 'file-unreadable'
    const message = code === 'ENOENT' ? `not found in ${root}` : `cannot be read: ${(error as Error).message}`
    return { ok: false, problem: { file, entry: '(file)', rule, message } }
  }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    const { line, column } = lineAndColumn(text, jsonErrorOffset(text, error))
    const detail = error instanceof Error ? error.message : String(error)
    return {
      ok: false,
      problem: {
        file,
        entry: `line ${line} column ${column}`,
        rule: 'json-syntax',
        message: `invalid JSON: ${detail}`,
      },
    }
  }
}

const locateRoot = (root: string | undefined): string => {
  if (root !== undefined) return root
  try {
    return findProjectRoot()
  } catch (error) {
    throw new ContractError([
      { file: CONFIG_FILE, entry: '(file)', rule: 'file-missing', message: (error as Error).message },
    ])
  }
}

/**
 * Reads app.config.json and layouts/layout.json, checks them together; throws a ContractError listing every problem.
 */
export const loadContract = (options: LoadContractOptions = {}): Contract => {
  const root = locateRoot(options.root)
  const files = { config: CONFIG_FILE, layout: LAYOUT_FILE } as const
  const config = readJson(root, files.config)
  const layout = readJson(root, files.layout)
  if (!config.ok || !layout.ok) {
    throw new ContractError([config, layout].flatMap((read) => (read.ok ? [] : [read.problem])))
  }
  // validateContract checks the structure first, so casting the parsed JSON here is safe.
  const problems = validateContract(config.value as AppConfig, layout.value as Layout, files, options.sources)
  if (problems.length > 0) throw new ContractError(problems)
  return { config: config.value as AppConfig, layout: layout.value as Layout, files }
}

/** The one-line summary `npm run validate` prints for a good contract. */
export const describeContract = (contract: Contract): string =>
  `contract OK: ${contract.config.params.length} params, ${contract.config.playbook.outputVariables.length} outputs`
