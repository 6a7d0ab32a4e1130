/**
 * The outbox journal of earlier versions (JSON lines, `var/alerts/outbox.jsonl`), imported once into the SQLite
 * outbox so an upgrade loses nothing pending and forgets nothing sent: every entry as last written, in today's words
 * (notifier kinds, alerts with ids), and the watchlist checkpoints. The journal is then renamed `<name>.imported`.
 */
import { existsSync, openSync, readFileSync, readSync, closeSync, renameSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Alert } from './api.js'
import { alertIdOf } from './destinations.js'
import type { EntryStore } from './outbox.js'
import type { Destination, OutboxEntry } from './types.js'

/** Destination kinds as the journal named them -> today's notifier kinds and settings. */
const LEGACY_DESTINATIONS: Readonly<Record<string, (target: string) => Destination>> = {
  slackChannel: (target) => ({ kind: 'slackChannels', target, settings: target }),
  slackUser: (target) => ({ kind: 'slackUsers', target, settings: target }),
  slackWebhook: () => ({ kind: 'slackWebhook', target: '', settings: true }),
  email: (target) => ({ kind: 'email', target, settings: target }),
  webhook: (target) => ({ kind: 'webhooks', target, settings: target }),
}

interface LegacyEntry extends Omit<OutboxEntry, 'destination' | 'alert' | 'email'> {
  readonly destination: { readonly kind: string; readonly target: string }
  readonly alert?: Omit<Alert, 'id' | 'rule' | 'type'> & { readonly ruleId: string }
  readonly email?: {
    readonly to: readonly string[]
    readonly subject: string
    readonly text: string
    readonly html?: string
  }
}

/** One legacy entry in today's words: a free-form e-mail to several becomes one entry per recipient. */
const upgrade = (e: LegacyEntry): OutboxEntry[] => {
  const destinationOf = LEGACY_DESTINATIONS[e.destination.kind]
  if (destinationOf === undefined) return []
  const { destination: _d, alert: legacyAlert, email: legacyEmail, ...rest } = e
  const final = e.state === 'sent' || e.state === 'dead' ? { settledAt: e.sentAt ?? e.createdAt } : {}
  if (legacyEmail !== undefined)
    return legacyEmail.to.map((to, i) => ({
      ...rest,
      ...final,
      key: legacyEmail.to.length === 1 ? e.key : `${e.key}:${i}`,
      destination: LEGACY_DESTINATIONS['email']?.(to.toLowerCase()) as Destination,
      email: {
        to,
        subject: legacyEmail.subject,
        text: legacyEmail.text,
        ...(legacyEmail.html !== undefined ? { html: legacyEmail.html } : {}),
      },
    }))
  if (legacyAlert === undefined) return []
  const { ruleId, ...alertRest } = legacyAlert
  const alert: Alert = { ...alertRest, rule: ruleId, type: alertRest.service, id: '' }
  return [
    { ...rest, ...final, destination: destinationOf(e.destination.target), alert: { ...alert, id: alertIdOf(alert) } },
  ]
}

const isJournal = (path: string): boolean => {
  if (!existsSync(path)) return false
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(2)
    const n = readSync(fd, head, 0, 2, 0)
    return n > 0 && head.toString('utf8', 0, n).startsWith('{')
  } finally {
    closeSync(fd)
  }
}

/**
 * The journal to import for an outbox at `path`, moved out of the way first: `path` itself when it is one (an
 * ALERTS_OUTBOX_PATH kept from before), else the earlier default `outbox.jsonl` beside the default `outbox.db`.
 */
export const takeJournal = (path: string): string | undefined => {
  const candidates = [path, ...(basename(path) === 'outbox.db' ? [join(dirname(path), 'outbox.jsonl')] : [])]
  const journal = candidates.find(isJournal)
  if (journal === undefined) return undefined
  const moved = `${journal}.imported`
  renameSync(journal, moved)
  return moved
}

/** Replays a journal into the store; answers how many entries came over. */
export const importJournal = async (journalPath: string, store: EntryStore): Promise<number> => {
  const entries = new Map<string, LegacyEntry>()
  const meta = new Map<string, string>()
  for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
    if (line === '') continue
    let record: { e?: LegacyEntry; m?: [string, string] }
    try {
      record = JSON.parse(line) as typeof record
    } catch {
      continue // a line cut short by a crash: it never acknowledged a change
    }
    if (record.e !== undefined) entries.set(record.e.key, record.e)
    else if (record.m !== undefined) meta.set(record.m[0], record.m[1])
  }
  const upgraded = [...entries.values()].flatMap(upgrade)
  for (let i = 0; i < upgraded.length; i += 1_000) await store.insert(upgraded.slice(i, i + 1_000))
  for (const [name, value] of meta) await store.setMeta(name, value)
  return upgraded.length
}
