/**
 * Where /run's params come from. The JSON body, as curl sends them; the query string, as a playbook's HTTP Client
 * sends each input as a whole value in its `params` list (an unset one is then left out, rather than embedded in the
 * body's text as `<null>`); and a vendor key from its own header (`X-Virustotal-Key`), as the component sends keychain
 * values: whole, never inside the body. A param given twice is refused, naming it.
 */
import { AppError } from '../errors.js'

/** The header a secret param travels in: virustotal_api_key -> x-virustotal-key (headers are lower-cased). */
export const keyHeaderOf = (name: string): string => `x-${name.replace(/(_api)?_key$/, '').replace(/_/g, '-')}-key`

/** As the reply and the docs write it: X-Virustotal-Key. */
export const keyHeaderTitle = (name: string): string =>
  keyHeaderOf(name)
    .split('-')
    .map((w) => (w === '' ? w : `${w[0]?.toUpperCase() ?? ''}${w.slice(1)}`))
    .join('-')

const twice = (name: string, where: string): AppError =>
  new AppError('INVALID_PARAM', `${name}: given both in the body and ${where}; send it once`, name)

/**
 * The body with the query's params and the key headers' values added; the body itself when there are none (a /run
 * from curl pays nothing). The merged object is validated as the body is (unknown names, types, unset values).
 */
export const paramsOfRequest = (
  body: unknown,
  query: unknown,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  keyParams: readonly string[],
): unknown => {
  const fromQuery = typeof query === 'object' && query !== null ? Object.entries(query) : []
  const fromHeaders = keyParams.flatMap((name): Array<[string, string]> => {
    const value = headers[keyHeaderOf(name)]
    return typeof value === 'string' ? [[name, value]] : []
  })
  if (fromQuery.length === 0 && fromHeaders.length === 0) return body
  if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) return body
  const merged: Record<string, unknown> = { ...(body as Record<string, unknown> | undefined) }
  for (const [name, value] of fromQuery) {
    if (name in merged) throw twice(name, 'the query string')
    merged[name] = value
  }
  for (const [name, value] of fromHeaders) {
    if (name in merged) throw twice(name, `the ${keyHeaderTitle(name)} header`)
    merged[name] = value
  }
  return merged
}
