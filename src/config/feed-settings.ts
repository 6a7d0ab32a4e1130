/**
 * The feed job's settings (npm run feed, FEED_SCHEDULE): which feeds, where their state is kept, how removals are
 * made safe. Read through the same TypeBox rows as the service's settings; each feed's URL is FEED_<ID>_URL.
 */
import { Type } from 'typebox'
import { ConfigError, oneOf, readSettings, setting, wholeNumber, type Setting, type SettingValue } from './env.js'

const FEED_REMOVAL_MODES = ['delete', 'deactivate', 'keep'] as const
export type FeedRemoval = (typeof FEED_REMOVAL_MODES)[number]

const FEED_SETTINGS = {
  feeds: setting(Type.String({ pattern: '^\\s*[a-z0-9_]+(\\s*,\\s*[a-z0-9_]+)*\\s*$' }), {
    env: 'FEEDS',
    description:
      'Feeds the job runs, comma-separated: `urlhaus`, `threatfox`, `feodo`, `spamhaus_drop`, `spamhaus_drop_v6`, `spamhaus_asndrop`, `file`.',
    default: 'file',
  }),
  filePath: setting(Type.String({ minLength: 1 }), {
    env: 'FEED_FILE_PATH',
    description: "The `file` feed's list (CSV or JSON, the watchlist's columns); the default is a small dated sample.",
    default: 'data/feed.sample.csv',
  }),
  stateDir: setting(Type.String({ minLength: 1 }), {
    env: 'FEED_STATE_DIR',
    description:
      "Where each feed's state (what was sent, its hashes, the ETag) is kept, in an SQLite database (`feeds.sqlite`); in Redis instead when REDIS_URL is set.",
    default: 'var/feed-state',
  }),
  schedule: setting(Type.String({ minLength: 9 }), {
    env: 'FEED_SCHEDULE',
    description:
      "A cron expression (e.g. `0 */6 * * *`): `npm start` then also runs the feeds on it, one run at a time, and /health shows each feed's last run.",
    default: undefined,
  }),
  removal: setting(oneOf(FEED_REMOVAL_MODES), {
    env: 'FEED_REMOVAL',
    description:
      'What happens to an indicator that left its feed: `deactivate` it (active false; its notes, tags and attributes stay), `delete` it from the owner, or `keep` it.',
    default: 'deactivate',
  }),
  maxRemovalPercent: setting(wholeNumber(0, 100), {
    env: 'FEED_MAX_REMOVAL_PERCENT',
    description:
      "A run that would remove more than this share of a feed's indicators removes none and says why (exit 3).",
    default: '20',
  }),
  maxInvalidPercent: setting(wholeNumber(0, 100), {
    env: 'FEED_MAX_INVALID_PERCENT',
    description:
      "Rows whose value cannot be used (counted and reported with their line) hold removals back only past this share of the feed's rows; a broken download (cut short, broken quoting or JSON, a record count that does not match) always does.",
    default: '1',
  }),
  expireDays: setting(wholeNumber(1, 3650), {
    env: 'FEED_EXPIRE_DAYS',
    description:
      'An indicator unseen in its feed for this many days is removed (as FEED_REMOVAL says) whatever holds the other removals back.',
    default: '30',
  }),
  batchMaxItems: setting(wholeNumber(1, 25_000), {
    env: 'FEED_BATCH_MAX_ITEMS',
    description: 'Most indicators in one v2 Batch upload (tcex uses 5,000; the platform takes at most 25,000 a job).',
    default: '5000',
  }),
  batchMaxBytes: setting(wholeNumber(1024, 1024 * 1024 * 1024), {
    env: 'FEED_BATCH_MAX_BYTES',
    description: 'Most bytes in one v2 Batch upload (tcex uses 75 MB); a larger one is split.',
    default: String(75 * 1024 * 1024),
  }),
  refreshDays: setting(wholeNumber(1, 3650), {
    env: 'FEED_REFRESH_DAYS',
    description:
      "Indicators still in the feed are re-sent this often (with their last-seen time, which alone is not a change), so ThreatConnect's confidence deprecation does not age them out.",
    default: '30',
  }),
} as const

export type FeedSettings = { readonly [K in keyof typeof FEED_SETTINGS]: SettingValue<(typeof FEED_SETTINGS)[K]> }

/** FEED_<ID>_URL: where a feed is fetched from instead of its public URL (a mirror, or a local fake). */
export const feedUrlEnv = (id: string): string => `FEED_${id.toUpperCase()}_URL`

export const loadFeedSettings = (env: Readonly<Record<string, string | undefined>>): FeedSettings => {
  const { values, problems } = readSettings(FEED_SETTINGS, env)
  if (problems.length > 0) throw new ConfigError(problems)
  // Every value was checked against its schema above.
  return values as FeedSettings
}

/** The feed job's rows for the docs' settings table; `feeds`: each feed's id, title and public URL. */
export const feedSettingRows = (
  feeds: readonly { readonly id: string; readonly title: string; readonly defaultUrl: string | undefined }[],
) => [
  ...Object.values<Setting>(FEED_SETTINGS).map((s) => ({
    env: s.env,
    description: s.description,
    default: s.default,
    secret: false,
    param: undefined,
  })),
  ...feeds
    .filter((f) => f.defaultUrl !== undefined)
    .map((f) => ({
      env: feedUrlEnv(f.id),
      description: `${f.title}: where the feed is fetched from (a mirror, or a local fake).`,
      default: f.defaultUrl,
      secret: false,
      param: undefined,
    })),
]
