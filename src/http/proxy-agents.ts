/**
 * Keep-alive agents for one client: direct, or through the ThreatConnect-style forward proxy when the client's
 * proxy scope is switched on (tc_proxy_external for vendors, tc_proxy_tc for the platform).
 */
import http from 'node:http'
import https from 'node:https'
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent'
import type { ServiceConfig } from '../config/env.js'

export type ProxyScope = 'external' | 'tc'

export interface ClientAgents {
  readonly http: http.Agent
  readonly https: https.Agent
  /** The proxy in use with any password redacted (for logs), or undefined when going direct. */
  readonly proxy: string | undefined
}

type ProxyConfig = Pick<
  ServiceConfig,
  'tcProxyHost' | 'tcProxyPort' | 'tcProxyUsername' | 'tcProxyPassword' | 'tcProxyExternal' | 'tcProxyTc' | 'tcVerify'
>

const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 16, scheduling: 'lifo' } as const

/** The proxy URL for a scope, or undefined when that scope goes direct (or no proxy host is set). */
export const proxyUrlFor = (config: ProxyConfig, scope: ProxyScope): URL | undefined => {
  const enabled = scope === 'tc' ? config.tcProxyTc : config.tcProxyExternal
  if (!enabled || config.tcProxyHost === undefined || config.tcProxyHost === '') return undefined
  const host = /^[a-z][a-z0-9+.-]*:\/\//i.test(config.tcProxyHost) ? config.tcProxyHost : `http://${config.tcProxyHost}`
  const url = new URL(host)
  if (config.tcProxyPort !== undefined) url.port = String(config.tcProxyPort)
  // The URL setters percent-encode, so user names and passwords with ':' or '@' survive.
  if (config.tcProxyUsername !== undefined && config.tcProxyUsername !== '') url.username = config.tcProxyUsername
  if (config.tcProxyPassword !== undefined && config.tcProxyPassword !== '') url.password = config.tcProxyPassword
  return url
}

export const createClientAgents = (config: ProxyConfig, scope: ProxyScope): ClientAgents => {
  const rejectUnauthorized = config.tcVerify
  const proxy = proxyUrlFor(config, scope)
  if (!proxy) {
    return {
      http: new http.Agent(AGENT_OPTIONS),
      https: new https.Agent({ ...AGENT_OPTIONS, rejectUnauthorized }),
      proxy: undefined,
    }
  }
  const shown = new URL(proxy)
  if (shown.password !== '') shown.password = 'redacted'
  return {
    http: new HttpProxyAgent({ ...AGENT_OPTIONS, proxy }),
    https: new HttpsProxyAgent({
      ...AGENT_OPTIONS,
      proxy,
      rejectUnauthorized,
      proxyRequestOptions: { rejectUnauthorized },
    }),
    proxy: shown.toString(),
  }
}
