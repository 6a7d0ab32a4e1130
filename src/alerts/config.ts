/**
 * The alert library's configuration, checked: its settings (environment), and ALERTS_CONFIG, a JSON file
 *   { "plugins": ["./alerts/teams.mjs", ...], "savedQueries": {"<name>": "<TQL>"}, "rules": [...] }
 * whose plugins are loaded (their kinds join the built-ins) and whose rules are checked against what is then known.
 * Every problem is named at once. Only when ALERTS_CONFIG is set does an entry point go on to open the worker
 * (src/alerts/open.ts).
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { loadAlertSettings, type AlertSettings } from '../config/alert-settings.js'
import { ConfigError } from '../config/env.js'
import { loadPlugins } from './plugin-loader.js'
import { buildRegistry, type Registry } from './registry.js'
import { AlertConfigError, parseRules, type AlertRule } from './rules.js'

export interface AlertConfig {
  readonly settings: AlertSettings
  readonly rules: readonly AlertRule[]
  readonly registry: Registry
  readonly savedQueries: Readonly<Record<string, string>>
}

const TOP_LEVEL = ['rules', 'plugins', 'savedQueries'] as const

/** The file's top level: its parts, or the problems with them. */
const readTopLevel = (
  json: unknown,
): { rules: unknown[]; plugins: string[]; savedQueries: Record<string, string>; problems: string[] } => {
  const problems: string[] = []
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { rules?: unknown }).rules))
    return { rules: [], plugins: [], savedQueries: {}, problems: ['expected an object {"rules": [...]}'] }
  const top = json as Record<string, unknown>
  const extra = Object.keys(top).filter((k) => !(TOP_LEVEL as readonly string[]).includes(k))
  if (extra.length > 0)
    problems.push(
      `unknown top-level field${extra.length === 1 ? '' : 's'} ${extra.map((k) => `'${k}'`).join(', ')} (known: ${TOP_LEVEL.join(', ')})`,
    )
  const plugins = top['plugins'] ?? []
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string' || p.trim() === ''))
    problems.push('plugins: a list of module paths or package names')
  const saved = top['savedQueries'] ?? {}
  const savedOk =
    typeof saved === 'object' &&
    saved !== null &&
    !Array.isArray(saved) &&
    Object.entries(saved).every(
      ([k, v]) => k.length <= 100 && typeof v === 'string' && v.trim() !== '' && v.length <= 2000,
    )
  if (!savedOk) problems.push('savedQueries: an object of query names to TQL text (at most 2000 characters each)')
  return {
    rules: top['rules'] as unknown[],
    plugins: Array.isArray(plugins) ? plugins.filter((p): p is string => typeof p === 'string') : [],
    savedQueries: savedOk ? (saved as Record<string, string>) : {},
    problems,
  }
}

/** The alerts file at `path`, checked against the built-ins and its plugins; throws AlertConfigError listing all. */
export const loadAlertsFile = async (
  path: string,
  settings: Pick<AlertSettings, 'retentionMs'>,
  cwd: string,
): Promise<Omit<AlertConfig, 'settings'>> => {
  const where = `ALERTS_CONFIG (${path})`
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new AlertConfigError(where, [
      code !== undefined ? `cannot read it: ${code}` : `not valid JSON: ${(err as Error).message}`,
    ])
  }
  const top = readTopLevel(json)
  const loaded = await loadPlugins(top.plugins, cwd)
  const { registry, problems: registryProblems } = buildRegistry(loaded.plugins)
  const { rules, problems: ruleProblems } = parseRules(top.rules, { registry, retentionMs: settings.retentionMs })
  const problems = [...top.problems, ...loaded.problems, ...registryProblems, ...ruleProblems]
  if (problems.length > 0) throw new AlertConfigError(where, problems)
  return { rules, registry, savedQueries: top.savedQueries }
}

/**
 * The settings and the rules, or undefined when ALERTS_CONFIG is unset; throws ConfigError / AlertConfigError naming
 * each problem. `root` anchors a relative ALERTS_CONFIG; plugins' relative paths are from the working directory.
 */
export const loadAlertConfig = async (
  env: Readonly<Record<string, string | undefined>>,
  root: string,
  cwd: string = process.cwd(),
): Promise<AlertConfig | undefined> => {
  const settings = loadAlertSettings(env)
  if (settings.configPath === undefined) return undefined
  if (settings.schedule !== undefined) {
    const { Cron } = await import('croner')
    try {
      new Cron(settings.schedule, { paused: true }).stop()
    } catch (err) {
      throw new ConfigError([
        `ALERTS_SCHEDULE: '${settings.schedule.slice(0, 60)}' is not a cron expression (${(err as Error).message})`,
      ])
    }
  }
  const path = isAbsolute(settings.configPath) ? settings.configPath : resolve(root, settings.configPath)
  return { settings, ...(await loadAlertsFile(path, settings, cwd)) }
}
