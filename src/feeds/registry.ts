/** The feeds the job knows, by id. Adding one: its file, a line here, its doc page and its tests. */
import { feodoFeed } from './feodo.js'
import { fileFeed } from './file.js'
import { spamhausAsnDropFeed, spamhausDropFeed, spamhausDropV6Feed } from './spamhaus-drop.js'
import { threatfoxFeed } from './threatfox.js'
import type { FeedDefinition } from './types.js'
import { urlhausFeed } from './urlhaus.js'

export const FEED_IDS = [
  'urlhaus',
  'threatfox',
  'feodo',
  'spamhaus_drop',
  'spamhaus_drop_v6',
  'spamhaus_asndrop',
  'file',
] as const
export type FeedId = (typeof FEED_IDS)[number]

export const isFeedId = (id: string): id is FeedId => (FEED_IDS as readonly string[]).includes(id)

/** The feed for an id; the file feed reads `filePath`. */
export const feedDefinition = (id: FeedId, filePath: string): FeedDefinition => {
  switch (id) {
    case 'urlhaus':
      return urlhausFeed
    case 'threatfox':
      return threatfoxFeed
    case 'feodo':
      return feodoFeed
    case 'spamhaus_drop':
      return spamhausDropFeed
    case 'spamhaus_drop_v6':
      return spamhausDropV6Feed
    case 'spamhaus_asndrop':
      return spamhausAsnDropFeed
    case 'file':
      return fileFeed(filePath)
  }
}
