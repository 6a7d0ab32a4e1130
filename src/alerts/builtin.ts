/**
 * The built-in services, formatters and notifiers: one plugin, made with the same definePlugin a user's plugin is.
 * Adding one is its file, a line here, its doc section and its tests.
 */
import { definePlugin } from './api.js'
import { emailFormatter } from './formatters/email.js'
import { slackFormatter } from './formatters/slack.js'
import { textFormatter } from './formatters/text.js'
import { webhookFormatter } from './formatters/webhook.js'
import { email } from './notifiers/email.js'
import { slackChannels, slackUsers } from './notifiers/slack-api.js'
import { slackWebhook } from './notifiers/slack-webhook.js'
import { webhooks } from './notifiers/webhook.js'
import { feedService } from './services/feed.js'
import { verdictService } from './services/verdict.js'
import { watchlistService } from './services/watchlist.js'

export const BUILTIN_PLUGIN = definePlugin({
  services: { verdict: verdictService, watchlist: watchlistService, feed: feedService },
  formatters: { slack: slackFormatter, email: emailFormatter, webhook: webhookFormatter, text: textFormatter },
  notifiers: { slackChannels, slackUsers, slackWebhook, email, webhooks },
})
