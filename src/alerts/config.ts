/**
 * The alert service's configuration, checked: its settings, and the rules of ALERTS_CONFIG against what those
 * settings offer. Light on purpose: every entry point reads it at start-up, and only when ALERTS_CONFIG is set does it
 * go on to open the service (src/alerts/open.ts).
 */
import { isAbsolute, resolve } from 'node:path'
import { loadAlertSettings, type AlertSettings } from '../config/alert-settings.js'
import { ConfigError } from '../config/env.js'
import { loadAlertRules, type AlertRule } from './rules.js'

export interface AlertConfig {
  readonly settings: AlertSettings
  readonly rules: readonly AlertRule[]
}

/**
 * The settings and the rules, or undefined when ALERTS_CONFIG is unset; throws ConfigError / AlertConfigError naming
 * each problem.
 */
export const loadAlertConfig = async (
  env: Readonly<Record<string, string | undefined>>,
  root: string,
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
  const rules = loadAlertRules(path, {
    slackBotToken: settings.slackBotToken !== undefined,
    slackWebhookUrl: settings.slackWebhookUrl !== undefined,
    smtp: settings.smtpUrl !== undefined && settings.emailFrom !== undefined,
  })
  return { settings, rules }
}
