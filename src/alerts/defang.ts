/**
 * Defanging: a malicious URL, host, address or e-mail shown to people is written so that no mail client links it and
 * no mail gateway quarantines the alert for carrying it (`hxxps://evil[.]example/x`, `user[@]evil[.]example`). The
 * forms are the ones the service's own refang (src/indicators/refang.ts) reads back, so a value copied from an alert
 * into /run is understood. Machine-facing bodies (the webhook JSON) keep the raw value.
 */
import type { Alert } from './api.js'

const SCHEMES: Readonly<Record<string, string>> = { http: 'hxxp', https: 'hxxps', ftp: 'fxp' }

const dots = (text: string): string => text.replace(/\./g, '[.]')

const defangUrl = (value: string): string => {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(value)
  if (m === null) return dots(value)
  const [, scheme = '', authority = '', rest = ''] = m
  return `${SCHEMES[scheme.toLowerCase()] ?? scheme}://${dots(authority)}${rest}`
}

/** A value of an indicator type, defanged when that type can be clicked or resolved; other types as they are. */
export const defang = (type: string, value: string): string => {
  switch (type) {
    case 'URL':
      return defangUrl(value)
    case 'Host':
      return dots(value)
    case 'Address':
      return value.includes(':') ? value.replace(/:/g, '[:]') : dots(value)
    case 'EmailAddress': {
      const at = value.lastIndexOf('@')
      return at < 0 ? dots(value) : `${value.slice(0, at)}[@]${dots(value.slice(at + 1))}`
    }
    default:
      return value
  }
}

/** The alert as people should see it: its indicator's value defanged. */
export const defangAlert = (alert: Alert): Alert => {
  const value = defang(alert.indicator.type, alert.indicator.value)
  return value === alert.indicator.value ? alert : { ...alert, indicator: { ...alert.indicator, value } }
}
